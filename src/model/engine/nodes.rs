//! Nodes, the kube-scheduler's choice among them and the Cluster
//! Autoscaler that adds and removes them. Present only when the scenario
//! has node pools; [`super::pods`] asks it where a pod goes and tells it
//! when a pod leaves.
//!
//! The decisions are the pure functions of [`crate::kubernetes::scheduler`],
//! [`crate::kubernetes::cluster_autoscaler`] and
//! [`crate::kubernetes::scale_down`]; this file keeps the state they decide
//! over: each node's phase and what is bound to it, the autoscaler's
//! timers, and the totals the outputs report. Evicting the pods of a node
//! being drained crosses components, so [`super::cluster_flow`] does it.
//!
//! Random draws: scheduler ties from [`Stream::Placement`]; node
//! provisioning and deletion times from [`Stream::Nodes`] per pool, in the
//! order the autoscaler asks; expander ties from [`Stream::Nodes`] with an
//! index past the pools.

use super::event::Event;
use crate::kubernetes::cluster_autoscaler::{
    crop, estimate, scale_down_in_cooldown, utilization, waste, Expander, LastActions, Unneeded,
    UNSCHEDULABLE_POD_TIME_BUFFER,
};
use crate::kubernetes::resources::PodRequest;
use crate::kubernetes::scale_down::{find_removable, place_all, SnapshotNode};
use crate::kubernetes::scheduler::{fits, schedule, Candidate, NodeUsage};
use crate::model::cluster::{ClusterPoolSummary, ClusterRow, ClusterSummary};
use crate::scenario::cluster::NodesSpec;
use crate::sim::{EventQueue, RngStreams, SimDuration, SimRng, SimTime, Stream};
use rand::Rng;
use std::collections::BTreeMap;

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Asked for, not yet Ready (counted as upcoming by the autoscaler).
    Provisioning,
    /// Takes pods.
    Ready,
    /// Chosen for removal with pods on it: tainted, takes no pods, its pods
    /// are evicted; still billed.
    Draining,
    /// Being deleted (empty, or its drain is over): takes no pods, still
    /// billed until its deletion time has passed.
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
    /// Its removal started with pods to move (counted as a drain until it
    /// is gone).
    drain: bool,
    /// Its pods have been evicted.
    evicted: bool,
}

impl Node {
    fn new(pool: usize, phase: Phase, since: SimTime) -> Node {
        Node {
            pool,
            phase,
            used: NodeUsage::default(),
            since,
            drain: false,
            evicted: false,
        }
    }
}

/// Pods bound to each node, by node id: actual and non-zero request.
pub(crate) type BoundPods = Vec<Vec<(PodRequest, PodRequest)>>;

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
    /// Nodes whose pods could not move, until when they are not looked at.
    unremovable: BTreeMap<u32, SimTime>,
    last: LastActions,
    books: Vec<PoolBooks>,
    peak_nodes: u32,
    seconds: u64,
    pending_pod_seconds: f64,
    unschedulable_events: u64,
    waited_for_node: u64,
    scale_ups: u64,
    nodes_added: u64,
    nodes_removed: u64,
    nodes_drained: u64,
    pods_evicted: u64,
    eviction_cold_starts: u64,
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
                nodes.push(Node::new(i, Phase::Ready, SimTime::ZERO));
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
            unremovable: BTreeMap::new(),
            last: LastActions::default(),
            books: vec![PoolBooks::default(); n_pools],
            peak_nodes: 0,
            seconds: 0,
            pending_pod_seconds: 0.0,
            unschedulable_events: 0,
            waited_for_node: 0,
            scale_ups: 0,
            nodes_added: 0,
            nodes_removed: 0,
            nodes_drained: 0,
            pods_evicted: 0,
            eviction_cold_starts: 0,
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

    /// A pod left node `n`; the last pod leaving a drained node lets its
    /// deletion start.
    pub(crate) fn release(
        &mut self,
        n: u32,
        req: PodRequest,
        nz: PodRequest,
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) {
        self.nodes[n as usize].used.remove(req, nz);
        self.maybe_drained(n, now, q);
    }

    /// Number of nodes ever known (the next node id).
    pub(crate) fn count(&self) -> usize {
        self.nodes.len()
    }

    /// The autoscaler evicts the pods of node `n` now (its taint has had
    /// time to reach the schedulers); it waits for them at most
    /// `max-graceful-termination-sec`. Returns whether `n` is draining.
    pub(crate) fn start_eviction(
        &mut self,
        n: u32,
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) -> bool {
        let node = &mut self.nodes[n as usize];
        if node.phase != Phase::Draining || node.evicted {
            return false;
        }
        node.evicted = true;
        q.schedule(
            now + self.spec.autoscaler.max_graceful_termination,
            Event::NodeDrainDeadline { node: n },
        );
        true
    }

    /// `pods` pods were evicted.
    pub(crate) fn evicted(&mut self, pods: u64) {
        self.pods_evicted += pods;
    }

    /// A replacement of an evicted pod started.
    pub(crate) fn eviction_cold_start(&mut self) {
        self.eviction_cold_starts += 1;
    }

    /// Starts deleting drained node `n` once its evicted pods are gone.
    pub(crate) fn maybe_drained(&mut self, n: u32, now: SimTime, q: &mut EventQueue<Event>) {
        let node = &self.nodes[n as usize];
        if node.phase == Phase::Draining && node.evicted && node.used.pods == 0 {
            self.begin_delete(n, now, q);
        }
    }

    /// `max-graceful-termination-sec` after the evictions of node `n`: the
    /// autoscaler deletes it whatever is left on it.
    pub(crate) fn drain_deadline(&mut self, n: u32, now: SimTime, q: &mut EventQueue<Event>) {
        if self.nodes[n as usize].phase == Phase::Draining {
            self.begin_delete(n, now, q);
        }
    }

    /// The cloud provider deletes node `n`: gone after the pool's deletion
    /// time.
    fn begin_delete(&mut self, n: u32, now: SimTime, q: &mut EventQueue<Event>) {
        let pool = self.nodes[n as usize].pool;
        self.nodes[n as usize].phase = Phase::Deleting;
        let secs = self.spec.pools[pool]
            .deletion
            .sample(&mut self.pool_rngs[pool]);
        q.schedule(
            now + SimDuration::from_secs_f64(secs),
            Event::NodeGone { node: n },
        );
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
            .filter(|n| !matches!(n.phase, Phase::Deleting | Phase::Draining))
            .count() as u32
    }

    /// One autoscaler loop over the pods now pending, oldest first, and
    /// the pods bound to each node.
    pub(crate) fn scan(
        &mut self,
        pending: &[PendingPod],
        bound: BoundPods,
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) {
        let s = self.spec.autoscaler.clone();
        q.schedule(now + s.scan_interval, Event::ClusterScan);
        let (scaled_up, young) = self.scale_up(pending, now, q);
        let Some(removable) = self.plan_scale_down(bound, now) else {
            return;
        };
        if !s.scale_down_enabled || scaled_up || young || scale_down_in_cooldown(&s, now, self.last)
        {
            return;
        }
        // `RemovableAt`: unneeded long enough, and the pool stays at or
        // above its minimum counting the removals accepted so far.
        let mut accepted = vec![0u32; self.spec.pools.len()];
        let (mut empty, mut drain) = (Vec::new(), Vec::new());
        for n in removable {
            let node = &self.nodes[n as usize];
            let pool = node.pool;
            if !self.unneeded.removable(n, now, s.scale_down_unneeded_time)
                || self.target(pool) - accepted[pool] <= self.spec.pools[pool].min
            {
                continue;
            }
            accepted[pool] += 1;
            if node.used.pods == 0 {
                empty.push(n);
            } else {
                drain.push(n);
            }
        }
        let (mut empty_busy, mut drain_busy) = (0, 0);
        for n in &self.nodes {
            match n.phase {
                Phase::Draining => drain_busy += 1,
                Phase::Deleting if n.drain => drain_busy += 1,
                Phase::Deleting => empty_busy += 1,
                _ => {}
            }
        }
        let (e, d) = crop(&s, empty.len(), drain.len(), empty_busy, drain_busy);
        for &n in &empty[..e] {
            self.unneeded.forget(n);
            self.last.delete = Some(now);
            self.begin_delete(n, now, q);
        }
        for &n in &drain[..d] {
            self.unneeded.forget(n);
            self.last.delete = Some(now);
            self.nodes_drained += 1;
            let node = &mut self.nodes[n as usize];
            node.phase = Phase::Draining;
            node.drain = true;
            q.schedule(
                now + s.node_delete_delay_after_taint,
                Event::NodeEvict { node: n },
            );
        }
    }

    /// The planner's bookkeeping, every loop: which under-utilized nodes
    /// could go with their pods placed on the others, in node order, with
    /// their unneeded timers updated. `None` when the pods of the nodes
    /// being drained find no place (upstream then forgets every timer and
    /// removes nothing this loop).
    fn plan_scale_down(&mut self, mut bound: BoundPods, now: SimTime) -> Option<Vec<u32>> {
        let s = &self.spec.autoscaler;
        self.unremovable.retain(|_, until| *until > now);
        let mut snap: Vec<SnapshotNode> = self
            .nodes
            .iter()
            .map(|n| SnapshotNode {
                shape: self.spec.pools[n.pool].shape,
                used: n.used,
                pods: Vec::new(),
                destination: n.phase == Phase::Ready,
            })
            .collect();
        // Pods of nodes being drained are placed first: they (or their
        // replacements) need room too.
        for (i, n) in self.nodes.iter().enumerate() {
            if n.phase == Phase::Draining && !place_all(&mut snap, &bound[i], None) {
                self.unneeded.update(&[], now);
                return None;
            }
        }
        let mut candidates = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let pool = &self.spec.pools[n.pool];
            if n.phase == Phase::Ready
                && pool.min < pool.max
                && !self.unremovable.contains_key(&(i as u32))
                && utilization(snap[i].used.requested, pool.shape.allocatable)
                    < s.scale_down_utilization_threshold
            {
                snap[i].pods = std::mem::take(&mut bound[i]);
                candidates.push(i);
            }
        }
        // The candidate sorting processors of upstream's default build: empty
        // nodes first, then the nodes unneeded in the previous loop, each
        // group in node order.
        candidates.sort_by_key(|&i| {
            (
                self.nodes[i].used.pods != 0,
                !self.unneeded.contains(i as u32),
            )
        });
        let (removable, unremovable) = find_removable(&mut snap, &candidates);
        let until = now + s.unremovable_node_recheck_timeout;
        for n in unremovable {
            self.unremovable.insert(n as u32, until);
        }
        let removable: Vec<u32> = removable.into_iter().map(|n| n as u32).collect();
        self.unneeded.update(&removable, now);
        Some(removable)
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
            self.nodes.push(Node::new(pool, Phase::Provisioning, now));
            q.schedule(
                now + SimDuration::from_secs_f64(secs),
                Event::NodeReady { node: id },
            );
        }
        self.nodes_added += count as u64;
        self.scale_ups += 1;
        self.last.scale_up = Some(now);
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
            let mut open_seconds = 0.0;
            for n in self.alive(i) {
                alive += 1;
                open_seconds += (now - n.since).as_secs_f64();
                match n.phase {
                    Phase::Ready => {
                        ready += 1;
                        row.cpu_requested_milli += n.used.requested.cpu_milli;
                        row.memory_requested_bytes += n.used.requested.memory_bytes;
                    }
                    Phase::Provisioning => prov += 1,
                    Phase::Draining | Phase::Deleting => row.nodes_deleting += 1,
                    Phase::Gone => {}
                }
            }
            row.cpu_allocatable_milli += ready as i64 * pool.shape.allocatable.cpu_milli;
            row.memory_allocatable_bytes += ready as i64 * pool.shape.allocatable.memory_bytes;
            row.nodes_ready += ready;
            row.nodes_provisioning += prov;
            row.pools.push((ready, prov));
            row.cost += (self.books[i].node_seconds + open_seconds) / 3600.0 * pool.price_per_hour;
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
            nodes_drained: self.nodes_drained,
            pods_evicted: self.pods_evicted,
            eviction_cold_starts: self.eviction_cold_starts,
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
