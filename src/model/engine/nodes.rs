//! Nodes, the kube-scheduler's choice among them and the Cluster
//! Autoscaler that adds and removes them. Present only when the scenario
//! has node pools; [`super::pods`] asks it where a pod goes and tells it
//! when a pod leaves.
//!
//! The decisions are the pure functions of [`crate::kubernetes::scheduler`]
//! and [`crate::kubernetes::cluster_autoscaler`]; this file keeps the state
//! they decide over: each node's phase and what is bound to it, the
//! autoscaler's timers, and the totals the outputs report.
//!
//! Random draws: scheduler ties from [`Stream::Placement`]; node
//! provisioning and deletion times from [`Stream::Nodes`] per pool, in the
//! order the autoscaler asks; expander ties from [`Stream::Nodes`] with an
//! index past the pools.

use super::event::Event;
use crate::kubernetes::cluster_autoscaler::{
    estimate, scale_down_in_cooldown, utilization, waste, Expander, Unneeded,
    UNSCHEDULABLE_POD_TIME_BUFFER,
};
use crate::kubernetes::resources::PodRequest;
use crate::kubernetes::scheduler::{fits, schedule, Candidate, NodeUsage};
use crate::model::cluster::{ClusterPoolSummary, ClusterRow, ClusterSummary};
use crate::scenario::cluster::NodesSpec;
use crate::sim::{EventQueue, RngStreams, SimDuration, SimRng, SimTime, Stream};
use rand::Rng;

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Asked for, not yet Ready (counted as upcoming by the autoscaler).
    Provisioning,
    /// Takes pods.
    Ready,
    /// Chosen for removal: tainted, takes no pods, still billed.
    Deleting,
    /// Gone.
    Gone,
}

struct Node {
    pool: usize,
    phase: Phase,
    used: NodeUsage,
    /// When the autoscaler (or the scenario) asked for it: billing starts.
    since: SimTime,
}

/// A pod waiting for a node, as the autoscaler sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingPod {
    /// Actual request.
    pub(crate) req: PodRequest,
    /// Non-zero request.
    pub(crate) nz: PodRequest,
    /// When it was created.
    pub(crate) since: SimTime,
}

/// Per-pool totals.
#[derive(Clone, Debug, Default)]
struct PoolBooks {
    node_seconds: f64,
    peak: u32,
    node_second_sum: f64,
}

/// Every node of the cluster.
pub(crate) struct Nodes {
    spec: NodesSpec,
    nodes: Vec<Node>,
    place_rng: SimRng,
    pool_rngs: Vec<SimRng>,
    expander_rng: SimRng,
    unneeded: Unneeded,
    last_scale_up: Option<SimTime>,
    last_delete: Option<SimTime>,
    books: Vec<PoolBooks>,
    peak_nodes: u32,
    seconds: u64,
    pending_pod_seconds: f64,
    unschedulable_events: u64,
    waited_for_node: u64,
    scale_ups: u64,
    nodes_added: u64,
    nodes_removed: u64,
    sum_cpu_req: f64,
    sum_cpu_alloc: f64,
    sum_mem_req: f64,
    sum_mem_alloc: f64,
    rows: Vec<ClusterRow>,
}

impl Nodes {
    /// The pools at their initial size, every node Ready at time zero; the
    /// autoscaler's first scan is queued one scan interval in.
    pub(crate) fn new(spec: &NodesSpec, streams: &RngStreams, q: &mut EventQueue<Event>) -> Nodes {
        let n_pools = spec.pools.len();
        let mut nodes = Vec::new();
        for (i, p) in spec.pools.iter().enumerate() {
            for _ in 0..p.initial {
                nodes.push(Node {
                    pool: i,
                    phase: Phase::Ready,
                    used: NodeUsage::default(),
                    since: SimTime::ZERO,
                });
            }
        }
        q.schedule(
            SimTime::ZERO + spec.autoscaler.scan_interval,
            Event::ClusterScan,
        );
        Nodes {
            spec: spec.clone(),
            nodes,
            place_rng: streams.get(Stream::Placement, 0),
            pool_rngs: (0..n_pools)
                .map(|i| streams.get(Stream::Nodes, i as u64))
                .collect(),
            expander_rng: streams.get(Stream::Nodes, n_pools as u64),
            unneeded: Unneeded::default(),
            last_scale_up: None,
            last_delete: None,
            books: vec![PoolBooks::default(); n_pools],
            peak_nodes: 0,
            seconds: 0,
            pending_pod_seconds: 0.0,
            unschedulable_events: 0,
            waited_for_node: 0,
            scale_ups: 0,
            nodes_added: 0,
            nodes_removed: 0,
            sum_cpu_req: 0.0,
            sum_cpu_alloc: 0.0,
            sum_mem_req: 0.0,
            sum_mem_alloc: 0.0,
            rows: Vec::new(),
        }
    }

    /// One scheduling cycle: the node the pod is bound to (its resources
    /// are taken at once, as the scheduler assumes the pod), or `None`.
    pub(crate) fn place(&mut self, req: PodRequest, nz: PodRequest) -> Option<u32> {
        let ready: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].phase == Phase::Ready)
            .collect();
        let cands: Vec<Candidate> = ready
            .iter()
            .map(|&i| Candidate {
                shape: self.spec.pools[self.nodes[i].pool].shape,
                used: self.nodes[i].used,
            })
            .collect();
        let k = schedule(req, nz, &cands, self.spec.scoring, &mut self.place_rng)?;
        let n = ready[k];
        self.nodes[n].used.add(req, nz);
        Some(n as u32)
    }

    /// A pod found no node when it was created.
    pub(crate) fn unschedulable(&mut self) {
        self.unschedulable_events += 1;
    }

    /// A pod that had waited was bound.
    pub(crate) fn waited(&mut self) {
        self.waited_for_node += 1;
    }

    /// A pod left node `n`.
    pub(crate) fn release(&mut self, n: u32, req: PodRequest, nz: PodRequest) {
        self.nodes[n as usize].used.remove(req, nz);
    }

    /// Node `n` finished provisioning; returns whether it takes pods now.
    pub(crate) fn node_ready(&mut self, n: u32) -> bool {
        let node = &mut self.nodes[n as usize];
        if node.phase != Phase::Provisioning {
            return false;
        }
        node.phase = Phase::Ready;
        true
    }

    /// Node `n` is deleted.
    pub(crate) fn node_gone(&mut self, n: u32, now: SimTime) {
        let node = &mut self.nodes[n as usize];
        debug_assert_eq!(node.phase, Phase::Deleting);
        node.phase = Phase::Gone;
        self.books[node.pool].node_seconds += (now - node.since).as_secs_f64();
        self.nodes_removed += 1;
    }

    fn alive(&self, pool: usize) -> impl Iterator<Item = &Node> {
        self.nodes
            .iter()
            .filter(move |n| n.pool == pool && n.phase != Phase::Gone)
    }

    /// The pool's target size: nodes asked for and not being deleted.
    fn target(&self, pool: usize) -> u32 {
        self.alive(pool)
            .filter(|n| n.phase != Phase::Deleting)
            .count() as u32
    }

    /// One autoscaler loop over the pods now pending, oldest first.
    pub(crate) fn scan(&mut self, pending: &[PendingPod], now: SimTime, q: &mut EventQueue<Event>) {
        let s = self.spec.autoscaler.clone();
        q.schedule(now + s.scan_interval, Event::ClusterScan);
        let (scaled_up, young) = self.scale_up(pending, now, q);
        // Bookkeeping runs every loop; a node is unneeded while under the
        // threshold (the move-elsewhere check is left to actuation, which
        // only removes empty nodes).
        let unneeded: Vec<u32> = (0..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                let pool = &self.spec.pools[n.pool];
                n.phase == Phase::Ready
                    && pool.min < pool.max
                    && utilization(n.used.requested, pool.shape.allocatable)
                        < s.scale_down_utilization_threshold
            })
            .map(|i| i as u32)
            .collect();
        self.unneeded.update(&unneeded, now);
        if !s.scale_down_enabled
            || scaled_up
            || young
            || scale_down_in_cooldown(&s, now, self.last_scale_up, self.last_delete)
        {
            return;
        }
        let deleting = self
            .nodes
            .iter()
            .filter(|n| n.phase == Phase::Deleting)
            .count() as u32;
        let mut budget = s.max_scale_down_parallelism.saturating_sub(deleting);
        for n in unneeded {
            if budget == 0 {
                break;
            }
            let node = &self.nodes[n as usize];
            let pool = node.pool;
            if node.used.pods > 0
                || !self.unneeded.removable(n, now, s.scale_down_unneeded_time)
                || self.target(pool) <= self.spec.pools[pool].min
            {
                continue;
            }
            budget -= 1;
            self.nodes[n as usize].phase = Phase::Deleting;
            self.unneeded.forget(n);
            self.last_delete = Some(now);
            let secs = self.spec.pools[pool]
                .deletion
                .sample(&mut self.pool_rngs[pool]);
            q.schedule(
                now + SimDuration::from_secs_f64(secs),
                Event::NodeGone { node: n },
            );
        }
    }

    /// The scale-up half of a loop; returns whether nodes were asked for
    /// and whether a too-young unschedulable pod held scale-down back.
    fn scale_up(
        &mut self,
        pending: &[PendingPod],
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) -> (bool, bool) {
        let s = &self.spec.autoscaler;
        // Pods that fit a Ready node or a node on its way need no new node.
        let mut snap: Vec<Candidate> = self
            .nodes
            .iter()
            .filter(|n| matches!(n.phase, Phase::Ready | Phase::Provisioning))
            .map(|n| Candidate {
                shape: self.spec.pools[n.pool].shape,
                used: n.used,
            })
            .collect();
        let mut to_help = Vec::new();
        let mut misfits: Vec<PodRequest> = Vec::new();
        let mut oldest: Option<SimTime> = None;
        for p in pending {
            if now - p.since < s.new_pod_scale_up_delay {
                continue;
            }
            // The snapshot only fills up, so a request that did not fit
            // will not fit later in this pass either.
            if !misfits.contains(&p.req) {
                if let Some(c) = snap.iter_mut().find(|c| fits(p.req, &c.shape, &c.used)) {
                    c.used.add(p.req, p.nz);
                    continue;
                }
                misfits.push(p.req);
            }
            to_help.push(p.req);
            oldest = Some(oldest.map_or(p.since, |o| o.min(p.since)));
        }
        let Some(oldest) = oldest else {
            return (false, false);
        };
        if oldest + UNSCHEDULABLE_POD_TIME_BUFFER > now {
            return (false, true);
        }
        let total: u32 = (0..self.spec.pools.len()).map(|p| self.target(p)).sum();
        let room_total = if s.max_nodes_total == 0 {
            u32::MAX
        } else {
            s.max_nodes_total.saturating_sub(total)
        };
        // Options: (pool, nodes, requested, waste).
        let mut options = Vec::new();
        for (i, pool) in self.spec.pools.iter().enumerate() {
            let room = pool.max.saturating_sub(self.target(i)).min(room_total);
            if room == 0 {
                continue;
            }
            let e = estimate(&to_help, &pool.shape, room);
            if e.nodes == 0 {
                continue;
            }
            let req = e
                .pods
                .iter()
                .fold(PodRequest::default(), |a, &k| a + to_help[k]);
            options.push((i, e.nodes, waste(pool.shape.allocatable, e.nodes, req)));
        }
        if options.is_empty() {
            return (false, false);
        }
        if s.expander == Expander::LeastWaste {
            let best = options.iter().map(|o| o.2).fold(f64::INFINITY, f64::min);
            options.retain(|o| o.2 == best);
        }
        let k = if options.len() == 1 {
            0
        } else {
            self.expander_rng.random_range(0..options.len())
        };
        let (pool, count, _) = options[k];
        for _ in 0..count {
            let secs = self.spec.pools[pool]
                .provisioning
                .sample(&mut self.pool_rngs[pool]);
            let id = self.nodes.len() as u32;
            self.nodes.push(Node {
                pool,
                phase: Phase::Provisioning,
                used: NodeUsage::default(),
                since: now,
            });
            q.schedule(
                now + SimDuration::from_secs_f64(secs),
                Event::NodeReady { node: id },
            );
        }
        self.nodes_added += count as u64;
        self.scale_ups += 1;
        self.last_scale_up = Some(now);
        (true, false)
    }

    /// Closes one second of cluster accounting (`pending` pods waiting).
    pub(crate) fn record_second(&mut self, now: SimTime, pending: u32) {
        let mut row = ClusterRow {
            time: now.as_secs_f64(),
            pending_pods: pending,
            ..ClusterRow::default()
        };
        let mut total = 0;
        for (i, pool) in self.spec.pools.iter().enumerate() {
            let (mut ready, mut prov, mut alive) = (0u32, 0u32, 0u32);
            for n in self.alive(i) {
                alive += 1;
                match n.phase {
                    Phase::Ready => {
                        ready += 1;
                        row.cpu_requested_milli += n.used.requested.cpu_milli;
                        row.memory_requested_bytes += n.used.requested.memory_bytes;
                    }
                    Phase::Provisioning => prov += 1,
                    Phase::Deleting => row.nodes_deleting += 1,
                    Phase::Gone => {}
                }
            }
            row.cpu_allocatable_milli += ready as i64 * pool.shape.allocatable.cpu_milli;
            row.memory_allocatable_bytes += ready as i64 * pool.shape.allocatable.memory_bytes;
            row.nodes_ready += ready;
            row.nodes_provisioning += prov;
            row.pools.push((ready, prov));
            let b = &mut self.books[i];
            b.peak = b.peak.max(alive);
            b.node_second_sum += alive as f64;
            total += alive;
        }
        self.peak_nodes = self.peak_nodes.max(total);
        self.seconds += 1;
        self.pending_pod_seconds += pending as f64;
        self.sum_cpu_req += row.cpu_requested_milli as f64;
        self.sum_cpu_alloc += row.cpu_allocatable_milli as f64;
        self.sum_mem_req += row.memory_requested_bytes as f64;
        self.sum_mem_alloc += row.memory_allocatable_bytes as f64;
        self.rows.push(row);
    }

    /// The `cluster` object of the summary and the `cluster.csv` rows,
    /// charging nodes still there at `end`.
    pub(crate) fn summary(&mut self, end: SimTime) -> (ClusterSummary, Vec<ClusterRow>) {
        for n in &self.nodes {
            if n.phase != Phase::Gone {
                self.books[n.pool].node_seconds += (end - n.since).as_secs_f64();
            }
        }
        let secs = self.seconds.max(1) as f64;
        let pools: Vec<ClusterPoolSummary> = self
            .spec
            .pools
            .iter()
            .zip(&self.books)
            .map(|(p, b)| {
                let hours = b.node_seconds / 3600.0;
                ClusterPoolSummary {
                    name: p.name.clone(),
                    node_hours: hours,
                    cost: hours * p.price_per_hour,
                    peak_nodes: b.peak,
                    mean_nodes: b.node_second_sum / secs,
                }
            })
            .collect();
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let s = ClusterSummary {
            node_hours: pools.iter().map(|p| p.node_hours).sum(),
            cost: pools.iter().map(|p| p.cost).sum(),
            peak_nodes: self.peak_nodes,
            mean_nodes: pools.iter().map(|p| p.mean_nodes).sum(),
            pending_pod_seconds: self.pending_pod_seconds,
            unschedulable_events: self.unschedulable_events,
            cold_starts_waited_for_node: self.waited_for_node,
            scale_ups: self.scale_ups,
            nodes_added: self.nodes_added,
            nodes_removed: self.nodes_removed,
            mean_cpu_requested_milli: self.sum_cpu_req / secs,
            mean_cpu_allocatable_milli: self.sum_cpu_alloc / secs,
            mean_memory_requested_bytes: self.sum_mem_req / secs,
            mean_memory_allocatable_bytes: self.sum_mem_alloc / secs,
            cpu_requested_ratio: ratio(self.sum_cpu_req, self.sum_cpu_alloc),
            memory_requested_ratio: ratio(self.sum_mem_req, self.sum_mem_alloc),
            pools,
        };
        (s, std::mem::take(&mut self.rows))
    }
}
