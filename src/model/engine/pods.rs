//! Pods of every revision: the Deployment's replica count, scheduling onto a
//! cluster of bounded capacity, start-up, readiness, deletion and drain.
//!
//! Follows Kubernetes rather than Knative code: the ReplicaSet controller's
//! victim ranking when scaling down (`pkg/controller/replicaset`,
//! `ActivePodsWithRanks`: unscheduled, then not ready, then most recently
//! ready, newest first), the scheduler leaving pods Pending while the
//! cluster is full (and binding them first come, first served as room
//! frees), and the kubelet's readiness probe. Knative's part is the
//! activator probing a starting pod every
//! [`ACTIVATOR_PROBE_PERIOD`](crate::knative::dataplane::ACTIVATOR_PROBE_PERIOD)
//! (`pkg/activator/net/revision_backends.go`), which routes to it before
//! Kubernetes calls it ready, and the queue-proxy's drain of
//! [`QUEUE_PROXY_DRAIN`] after SIGTERM (`pkg/queue/sharedmain/main.go`).
//!
//! Each revision's start-up times come from its own random stream, drawn in
//! the order pods are scheduled.

use super::event::{Event, PodId, RevId};
use super::nodes::{BoundPods, Nodes, PendingPod};
use crate::knative::dataplane::{ACTIVATOR_PROBE_PERIOD, QUEUE_PROXY_DRAIN};
use crate::kubernetes::resources::PodRequest;
use crate::scenario::StartupModel;
use crate::sim::{EventQueue, SimDuration, SimRng, SimTime};
use std::collections::VecDeque;

/// Where a pod is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Pending: the cluster has no room for it.
    Unschedulable,
    /// Bound to a node: pulling, starting, running.
    Starting,
    /// Deleted, draining.
    Terminating,
    /// Gone.
    Gone,
}

struct Pod {
    phase: Phase,
    scheduled: SimTime,
    container_started: SimTime,
    /// An activator probe has found it.
    routable: bool,
    /// Kubernetes calls it Ready.
    ready: bool,
    /// Its drain sleep is over.
    quiet_done: bool,
    /// The node it is bound to ([`NO_NODE`] without node pools or while
    /// Pending).
    node: u32,
    /// When the kubelet took it up (`status.startTime`), once bound.
    started: Option<SimTime>,
    /// Last change of its Ready condition.
    ready_since: SimTime,
    /// Created to replace a pod evicted from a drained node.
    replacement: bool,
}

/// A pod not bound to a node.
const NO_NODE: u32 = u32::MAX;

/// One revision's Deployment.
struct Deployment {
    pods: Vec<Pod>,
    /// Ids of pods not yet gone, ascending: per-second accounting and victim
    /// choice look only at these, so a long run's pod churn costs nothing.
    alive: Vec<PodId>,
    /// Ready pods, ascending.
    ready: Vec<PodId>,
    replicas: u32,
    /// Pods counted against `replicas` (not terminating, not gone).
    live: u32,
    startup: StartupModel,
    rng: SimRng,
    cold_starts: u64,
    pod_seconds: f64,
    max_ready: u32,
    /// What each pod asks of a node (actual, non-zero).
    request: (PodRequest, PodRequest),
}

/// What deleting a pod did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deleted {
    /// The pod was routable: activators must stop using it.
    pub(crate) was_routable: bool,
    /// The pod is gone at once (nothing to drain).
    pub(crate) gone: bool,
}

/// Pod counts by phase, for one timeseries row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Census {
    /// Created but not yet Ready.
    pub(crate) pending: u32,
    /// Of those, waiting for cluster room.
    pub(crate) unschedulable: u32,
    /// Draining.
    pub(crate) terminating: u32,
}

/// One pod as the HPA controller's pod lister reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PodView {
    /// The pod.
    pub(crate) id: PodId,
    /// Phase Pending (unscheduled, or containers not started yet).
    pub(crate) pending: bool,
    /// It has a deletion timestamp.
    pub(crate) deleting: bool,
    /// Its Ready condition.
    pub(crate) ready: bool,
    /// That condition's last transition.
    pub(crate) ready_since: SimTime,
    /// `status.startTime`.
    pub(crate) started: Option<SimTime>,
}

/// Kubelet probe settings and the cluster's pod capacity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kubelet {
    /// Most pods running at once (None = unbounded).
    pub(crate) max_pods: Option<u32>,
    /// Readiness probe period.
    pub(crate) probe_period: SimDuration,
    /// Readiness probe timeout.
    pub(crate) probe_timeout: SimDuration,
}

/// Every revision's pods and the cluster they run on.
pub(crate) struct Pods {
    deps: Vec<Deployment>,
    unschedulable: VecDeque<(RevId, PodId)>,
    running: u32,
    kubelet: Kubelet,
    max_ready_total: u32,
    /// Node pools and the Cluster Autoscaler, when the scenario has them.
    nodes: Option<Box<Nodes>>,
}

impl Pods {
    /// An empty cluster.
    pub(crate) fn new(kubelet: Kubelet) -> Self {
        Pods {
            deps: Vec::new(),
            unschedulable: VecDeque::new(),
            running: 0,
            kubelet,
            max_ready_total: 0,
            nodes: None,
        }
    }

    /// Adds the next revision's Deployment, with no replicas yet.
    pub(crate) fn add_revision(&mut self, startup: StartupModel, rng: SimRng) {
        self.deps.push(Deployment {
            pods: Vec::new(),
            alive: Vec::new(),
            ready: Vec::new(),
            replicas: 0,
            live: 0,
            startup,
            rng,
            cold_starts: 0,
            pod_seconds: 0.0,
            max_ready: 0,
            request: Default::default(),
        });
    }

    /// Places pods on `nodes` from now on.
    pub(crate) fn attach_nodes(&mut self, nodes: Nodes) {
        self.nodes = Some(Box::new(nodes));
    }

    /// Sets what each pod of `r` asks of a node: actual and non-zero request.
    pub(crate) fn set_request(&mut self, r: RevId, req: PodRequest, nz: PodRequest) {
        self.deps[r.idx()].request = (req, nz);
    }

    /// The nodes, when the scenario has node pools.
    pub(crate) fn nodes_mut(&mut self) -> Option<&mut Nodes> {
        self.nodes.as_deref_mut()
    }

    /// The pods bound to each of `n` nodes (starting, running or
    /// terminating), by node id.
    pub(crate) fn bound(&self, n: usize) -> BoundPods {
        let mut out = vec![Vec::new(); n];
        for d in &self.deps {
            for &i in &d.alive {
                let p = &d.pods[i.idx()];
                if p.node != NO_NODE && matches!(p.phase, Phase::Starting | Phase::Terminating) {
                    out[p.node as usize].push(d.request);
                }
            }
        }
        out
    }

    /// The pods on node `n` an eviction would delete (not yet terminating),
    /// in revision then pod order.
    pub(crate) fn evictable(&self, n: u32) -> Vec<(RevId, PodId)> {
        let mut out = Vec::new();
        for (r, d) in self.deps.iter().enumerate() {
            for &i in &d.alive {
                let p = &d.pods[i.idx()];
                if p.node == n && p.phase == Phase::Starting {
                    out.push((RevId(r as u16), i));
                }
            }
        }
        out
    }

    /// The ReplicaSet of `r` replaces evicted pods: creates pods up to the
    /// replica count, marked as replacements.
    pub(crate) fn replace_evicted(&mut self, r: RevId, now: SimTime, q: &mut EventQueue<Event>) {
        let first = self.deps[r.idx()].pods.len();
        let want = self.deps[r.idx()].replicas;
        self.set_replicas(r, want, now, q);
        for p in &mut self.deps[r.idx()].pods[first..] {
            p.replacement = true;
        }
    }

    /// Pods waiting for a node, oldest first.
    pub(crate) fn pending(&self) -> Vec<PendingPod> {
        self.unschedulable
            .iter()
            .map(|&(r, p)| {
                let d = &self.deps[r.idx()];
                PendingPod {
                    req: d.request.0,
                    nz: d.request.1,
                    since: d.pods[p.idx()].scheduled,
                }
            })
            .collect()
    }

    /// Pods waiting for room.
    pub(crate) fn unschedulable_count(&self) -> u32 {
        self.unschedulable.len() as u32
    }

    /// Offers the nodes to every pending pod in queue order (a node became
    /// Ready or a pod left one); the pods placed start.
    pub(crate) fn retry_pending(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        let Some(nodes) = self.nodes.as_deref_mut() else {
            return;
        };
        let mut still = VecDeque::with_capacity(self.unschedulable.len());
        let mut bound = Vec::new();
        // Nodes only fill up during a pass, so a request that found no node
        // finds none later in it; a failed cycle draws nothing, so skipping
        // it changes no outcome.
        let mut failed: Vec<PodRequest> = Vec::new();
        for (r, p) in self.unschedulable.drain(..) {
            let (req, nz) = self.deps[r.idx()].request;
            if failed.contains(&req) {
                still.push_back((r, p));
                continue;
            }
            match nodes.place(req, nz) {
                Some(n) => {
                    nodes.waited();
                    self.deps[r.idx()].pods[p.idx()].node = n;
                    bound.push((r, p));
                }
                None => {
                    failed.push(req);
                    still.push_back((r, p));
                }
            }
        }
        self.unschedulable = still;
        for (r, p) in bound {
            self.bind(r, p, now, q);
        }
    }

    /// Pods ever created for `r` (the next pod id).
    pub(crate) fn created(&self, r: RevId) -> usize {
        self.deps[r.idx()].pods.len()
    }

    /// The Deployment's replica count.
    #[inline]
    pub(crate) fn replicas(&self, r: RevId) -> u32 {
        self.deps[r.idx()].replicas
    }

    /// Pods counted against the replica count.
    pub(crate) fn live(&self, r: RevId) -> u32 {
        self.deps[r.idx()].live
    }

    /// Ready pods of `r`, ascending.
    #[inline]
    pub(crate) fn ready(&self, r: RevId) -> &[PodId] {
        &self.deps[r.idx()].ready
    }

    /// When the pod's containers started.
    pub(crate) fn container_started(&self, r: RevId, p: PodId) -> SimTime {
        self.deps[r.idx()].pods[p.idx()].container_started
    }

    /// The pod is gone.
    #[inline]
    pub(crate) fn is_gone(&self, r: RevId, p: PodId) -> bool {
        self.deps[r.idx()].pods[p.idx()].phase == Phase::Gone
    }

    /// An activator probe has found the pod.
    pub(crate) fn is_routable(&self, r: RevId, p: PodId) -> bool {
        self.deps[r.idx()].pods[p.idx()].routable
    }

    /// Sets the replica count, creating pods up to it and scheduling each
    /// where the cluster has room. The caller removes surplus pods with
    /// [`Pods::pick_victim`] and [`Pods::delete`], one at a time.
    pub(crate) fn set_replicas(
        &mut self,
        r: RevId,
        want: u32,
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) {
        self.deps[r.idx()].replicas = want;
        while self.deps[r.idx()].live < want {
            let d = &mut self.deps[r.idx()];
            let id = PodId(d.pods.len() as u32);
            d.alive.push(id);
            d.pods.push(Pod {
                phase: Phase::Unschedulable,
                scheduled: now,
                container_started: now,
                routable: false,
                ready: false,
                quiet_done: false,
                node: NO_NODE,
                started: None,
                ready_since: now,
                replacement: false,
            });
            d.live += 1;
            self.try_schedule(r, id, now, q);
        }
    }

    fn try_schedule(&mut self, r: RevId, pod: PodId, now: SimTime, q: &mut EventQueue<Event>) {
        if let Some(nodes) = self.nodes.as_deref_mut() {
            let (req, nz) = self.deps[r.idx()].request;
            match nodes.place(req, nz) {
                Some(n) => {
                    self.deps[r.idx()].pods[pod.idx()].node = n;
                    self.bind(r, pod, now, q);
                }
                None => {
                    nodes.unschedulable();
                    self.unschedulable.push_back((r, pod));
                }
            }
            return;
        }
        if self.kubelet.max_pods.is_none_or(|m| self.running < m) {
            self.bind(r, pod, now, q);
        } else {
            self.unschedulable.push_back((r, pod));
        }
    }

    fn bind(&mut self, r: RevId, pod: PodId, now: SimTime, q: &mut EventQueue<Event>) {
        self.running += 1;
        let d = &mut self.deps[r.idx()];
        let p = &mut d.pods[pod.idx()];
        p.phase = Phase::Starting;
        p.scheduled = now;
        let delay = SimDuration::from_secs_f64(d.startup.scheduling.sample(&mut d.rng));
        q.schedule(now + delay, Event::PodScheduled { rev: r, pod });
    }

    /// The pod the ReplicaSet deletes next when scaling `r` down.
    pub(crate) fn pick_victim(&self, r: RevId) -> PodId {
        let d = &self.deps[r.idx()];
        let rank = |p: &Pod| match p.phase {
            Phase::Unschedulable => Some(0),
            Phase::Starting if !p.ready => Some(1),
            Phase::Starting => Some(2),
            Phase::Terminating | Phase::Gone => None,
        };
        let mut best: Option<(u32, PodId)> = None;
        for &i in d.alive.iter().rev() {
            let Some(k) = rank(&d.pods[i.idx()]) else {
                continue;
            };
            if best.is_none_or(|(bk, _)| k < bk) {
                best = Some((k, i));
                if k == 0 {
                    break;
                }
            }
        }
        best.expect("live > 0 means a live pod exists").1
    }

    /// Deletes pod `id` of `r`, which holds `in_flight` requests: an
    /// unscheduled pod vanishes, one that never took traffic is gone at once,
    /// any other drains.
    pub(crate) fn delete(
        &mut self,
        r: RevId,
        id: PodId,
        in_flight: u32,
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) -> Deleted {
        let d = &mut self.deps[r.idx()];
        d.live -= 1;
        let pod = &mut d.pods[id.idx()];
        match pod.phase {
            Phase::Unschedulable => {
                pod.phase = Phase::Gone;
                d.alive.retain(|&p| p != id);
                self.unschedulable.retain(|&(rr, p)| !(rr == r && p == id));
                return Deleted {
                    was_routable: false,
                    gone: true,
                };
            }
            Phase::Starting => {}
            Phase::Terminating | Phase::Gone => unreachable!("deleting a dead pod"),
        }
        pod.phase = Phase::Terminating;
        let (was_ready, was_routable) = (pod.ready, pod.routable);
        if was_ready {
            pod.ready_since = now;
        }
        pod.ready = false;
        pod.routable = false;
        if was_ready {
            d.ready.retain(|&p| p != id);
        }
        let gone = in_flight == 0 && !was_routable && !was_ready;
        if gone {
            // Never received traffic: nothing to drain.
            self.gone(r, id, now, q);
        } else {
            q.schedule(
                now + QUEUE_PROXY_DRAIN,
                Event::DrainQuiet { rev: r, pod: id },
            );
        }
        Deleted { was_routable, gone }
    }

    /// The drain sleep of pod `id` ended.
    pub(crate) fn drain_quiet(&mut self, r: RevId, id: PodId) {
        self.deps[r.idx()].pods[id.idx()].quiet_done = true;
    }

    /// A terminating pod whose drain sleep is over exits; returns whether it
    /// did. The caller has asked its queue-proxy that it holds no request.
    #[inline]
    pub(crate) fn maybe_gone(
        &mut self,
        r: RevId,
        id: PodId,
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) -> bool {
        let p = &self.deps[r.idx()].pods[id.idx()];
        let done = p.phase == Phase::Terminating && p.quiet_done;
        if done {
            self.gone(r, id, now, q);
        }
        done
    }

    fn gone(&mut self, r: RevId, id: PodId, now: SimTime, q: &mut EventQueue<Event>) {
        let d = &mut self.deps[r.idx()];
        let pod = &mut d.pods[id.idx()];
        pod.phase = Phase::Gone;
        d.pod_seconds += (now - pod.scheduled).as_secs_f64();
        d.alive.retain(|&p| p != id);
        self.running -= 1;
        if let Some(nodes) = self.nodes.as_deref_mut() {
            let (req, nz) = d.request;
            nodes.release(pod.node, req, nz, now, q);
            self.retry_pending(now, q);
            return;
        }
        // The room goes to the longest-pending pod of any revision.
        if let Some((rr, p)) = self.unschedulable.pop_front() {
            self.bind(rr, p, now, q);
        }
    }

    /// The pod is bound: draws its image pull, container start and app init,
    /// and schedules when an activator probe finds it and when the kubelet
    /// calls it ready. Returns when its containers started, or `None` if the
    /// pod was deleted meanwhile.
    pub(crate) fn scheduled(
        &mut self,
        r: RevId,
        id: PodId,
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) -> Option<SimTime> {
        let kubelet = self.kubelet;
        let d = &mut self.deps[r.idx()];
        if d.pods[id.idx()].phase != Phase::Starting {
            return None;
        }
        d.cold_starts += 1;
        if d.pods[id.idx()].replacement {
            if let Some(nodes) = self.nodes.as_deref_mut() {
                nodes.eviction_cold_start();
            }
        }
        let d = &mut self.deps[r.idx()];
        let s = &d.startup;
        let rng = &mut d.rng;
        let pull = SimDuration::from_secs_f64(s.image_pull.sample(rng));
        let start = SimDuration::from_secs_f64(s.container_start.sample(rng));
        let init = SimDuration::from_secs_f64(s.app_init.sample(rng));
        let t_cs = now + pull + start;
        let t_app = t_cs + init;
        d.pods[id.idx()].container_started = t_cs;
        d.pods[id.idx()].started = Some(now);
        d.pods[id.idx()].ready_since = now;
        // The activator probes the pod's IP every period and routes to it as
        // soon as the queue-proxy reports the app ready.
        let period = ACTIVATOR_PROBE_PERIOD.as_nanos();
        let probes = (t_app - now).as_nanos().div_ceil(period);
        let routable_at = now + SimDuration(probes * period);
        // The kubelet probes every period from container start; the queue-proxy
        // holds a probe open (retrying the app) for up to the probe timeout.
        let wait = (t_app - t_cs)
            .as_nanos()
            .saturating_sub(kubelet.probe_timeout.as_nanos());
        let k = wait.div_ceil(kubelet.probe_period.as_nanos());
        let probe_at = t_cs + SimDuration(k * kubelet.probe_period.as_nanos());
        let ready_at = probe_at.max(t_app);
        q.schedule(routable_at, Event::PodRoutable { rev: r, pod: id });
        q.schedule(ready_at, Event::PodReady { rev: r, pod: id });
        Some(t_cs)
    }

    /// An activator probe found the pod; returns whether that is news.
    pub(crate) fn routable(&mut self, r: RevId, id: PodId) -> bool {
        let pod = &mut self.deps[r.idx()].pods[id.idx()];
        if pod.phase != Phase::Starting || pod.routable {
            return false;
        }
        pod.routable = true;
        true
    }

    /// The kubelet calls the pod ready; returns whether that is news.
    pub(crate) fn ready_now(&mut self, r: RevId, id: PodId, now: SimTime) -> bool {
        let d = &mut self.deps[r.idx()];
        let pod = &mut d.pods[id.idx()];
        if pod.phase != Phase::Starting || pod.ready {
            return false;
        }
        pod.ready = true;
        pod.ready_since = now;
        let pos = d.ready.partition_point(|&p| p < id);
        d.ready.insert(pos, id);
        d.max_ready = d.max_ready.max(d.ready.len() as u32);
        let total: u32 = self.deps.iter().map(|d| d.ready.len() as u32).sum();
        self.max_ready_total = self.max_ready_total.max(total);
        true
    }

    /// What the HPA's pod lister sees of every pod of `r` not yet gone,
    /// ascending.
    pub(crate) fn hpa_view(&self, r: RevId, now: SimTime) -> Vec<PodView> {
        let d = &self.deps[r.idx()];
        d.alive
            .iter()
            .map(|&id| {
                let p = &d.pods[id.idx()];
                PodView {
                    id,
                    // Pending until the kubelet has started the containers.
                    pending: p.started.is_none() || now < p.container_started,
                    deleting: p.phase == Phase::Terminating,
                    ready: p.ready,
                    ready_since: p.ready_since,
                    started: p.started,
                }
            })
            .collect()
    }

    /// Pods of `r` by phase.
    pub(crate) fn census(&self, r: RevId) -> Census {
        let d = &self.deps[r.idx()];
        let mut c = Census::default();
        for &i in &d.alive {
            let p = &d.pods[i.idx()];
            match p.phase {
                Phase::Unschedulable => {
                    c.pending += 1;
                    c.unschedulable += 1;
                }
                Phase::Starting if !p.ready => c.pending += 1,
                Phase::Terminating => c.terminating += 1,
                _ => {}
            }
        }
        c
    }

    /// Charges pods still running at `end` for their time so far.
    pub(crate) fn close(&mut self, end: SimTime) {
        for d in &mut self.deps {
            for &i in &d.alive {
                let p = &d.pods[i.idx()];
                if matches!(p.phase, Phase::Starting | Phase::Terminating) && p.scheduled <= end {
                    d.pod_seconds += (end - p.scheduled).as_secs_f64();
                }
            }
        }
    }

    /// Pods started (cold starts) of `r`.
    pub(crate) fn cold_starts(&self, r: RevId) -> u64 {
        self.deps[r.idx()].cold_starts
    }

    /// Pod-seconds of `r` (complete after [`Pods::close`]).
    pub(crate) fn pod_seconds(&self, r: RevId) -> f64 {
        self.deps[r.idx()].pod_seconds
    }

    /// Most pods of `r` ready at once.
    pub(crate) fn max_ready(&self, r: RevId) -> u32 {
        self.deps[r.idx()].max_ready
    }

    /// Most pods of all revisions ready at once.
    pub(crate) fn max_ready_total(&self) -> u32 {
        self.max_ready_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, Stream};
    use crate::workload::Dist;

    const R: RevId = RevId(0);

    /// Scheduling 1 s, pull 2 s, start 1 s, app init 0.5 s.
    fn cluster(max_pods: Option<u32>) -> Pods {
        let mut p = Pods::new(Kubelet {
            max_pods,
            probe_period: SimDuration::from_secs(1),
            probe_timeout: SimDuration::ZERO,
        });
        let startup = StartupModel {
            scheduling: Dist::Constant(1.0),
            image_pull: Dist::Constant(2.0),
            container_start: Dist::Constant(1.0),
            app_init: Dist::Constant(0.5),
        };
        p.add_revision(startup, RngStreams::new(1).get(Stream::ColdStart, 0));
        p
    }

    fn drain(q: &mut EventQueue<Event>) -> Vec<(SimTime, Event)> {
        std::iter::from_fn(|| q.pop()).collect()
    }

    #[test]
    fn a_full_cluster_leaves_pods_pending_until_room_frees() {
        let mut p = cluster(Some(1));
        let mut q = EventQueue::new();
        p.set_replicas(R, 2, SimTime::ZERO, &mut q);
        assert_eq!(
            p.census(R),
            Census {
                pending: 2,
                unschedulable: 1,
                terminating: 0
            }
        );
        assert_eq!(q.len(), 1, "only the first pod is bound");
        // Deleting the bound pod, which never took traffic, frees its room.
        let d = p.delete(R, PodId(0), 0, SimTime::from_secs(1), &mut q);
        assert!(d.gone);
        let evs = drain(&mut q);
        assert!(matches!(
            evs.last(),
            Some((_, Event::PodScheduled { pod: PodId(1), .. }))
        ));
    }

    #[test]
    fn startup_schedules_probe_routability_before_kubelet_readiness() {
        let mut p = cluster(None);
        let mut q = EventQueue::new();
        p.set_replicas(R, 1, SimTime::ZERO, &mut q);
        let (t, _) = q.pop().unwrap();
        assert_eq!(t, SimTime::from_secs(1));
        let t_cs = p.scheduled(R, PodId(0), t, &mut q).unwrap();
        assert_eq!(t_cs, SimTime::from_secs(4));
        let evs = drain(&mut q);
        // The app is up at 4.5 s: the 200 ms activator probe sees it then;
        // the kubelet probes once a second from container start, at 5 s.
        assert!(
            matches!(evs[0], (at, Event::PodRoutable { .. }) if at == SimTime::from_secs(4) + SimDuration::from_millis(600))
        );
        assert!(matches!(evs[1], (at, Event::PodReady { .. }) if at == SimTime::from_secs(5)));
        assert_eq!(p.cold_starts(R), 1);
    }

    #[test]
    fn victims_are_unscheduled_then_unready_then_newest_ready() {
        let mut p = cluster(Some(3));
        let mut q = EventQueue::new();
        p.set_replicas(R, 4, SimTime::ZERO, &mut q);
        for id in [0, 1, 2] {
            p.scheduled(R, PodId(id), SimTime::ZERO, &mut q);
        }
        assert!(p.ready_now(R, PodId(0), SimTime::ZERO));
        assert!(p.ready_now(R, PodId(1), SimTime::ZERO));
        assert_eq!(p.pick_victim(R), PodId(3), "the unscheduled pod");
        p.delete(R, PodId(3), 0, SimTime::ZERO, &mut q);
        assert_eq!(p.pick_victim(R), PodId(2), "the pod not yet ready");
        p.delete(R, PodId(2), 0, SimTime::ZERO, &mut q);
        assert_eq!(p.pick_victim(R), PodId(1), "the newest ready pod");
    }

    #[test]
    fn a_pod_that_served_drains_until_quiet_and_empty() {
        let mut p = cluster(None);
        let mut q = EventQueue::new();
        p.set_replicas(R, 1, SimTime::ZERO, &mut q);
        p.scheduled(R, PodId(0), SimTime::ZERO, &mut q);
        p.routable(R, PodId(0));
        p.ready_now(R, PodId(0), SimTime::ZERO);
        drain(&mut q);
        let d = p.delete(R, PodId(0), 2, SimTime::from_secs(10), &mut q);
        assert_eq!(
            d,
            Deleted {
                was_routable: true,
                gone: false
            }
        );
        assert!(p.ready(R).is_empty());
        let (at, ev) = q.pop().unwrap();
        assert_eq!(at, SimTime::from_secs(10) + QUEUE_PROXY_DRAIN);
        assert!(matches!(ev, Event::DrainQuiet { .. }));
        assert!(!p.maybe_gone(R, PodId(0), at, &mut q), "drain not over");
        p.drain_quiet(R, PodId(0));
        assert!(p.maybe_gone(R, PodId(0), SimTime::from_secs(50), &mut q));
        assert!(p.is_gone(R, PodId(0)));
        assert_eq!(p.pod_seconds(R), 50.0);
    }
}
