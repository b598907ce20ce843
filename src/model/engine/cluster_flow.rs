//! The engine's side of the Cluster Autoscaler: its loop, nodes arriving
//! and leaving, and the drain of a node it removes with pods on it. Like
//! `eventing_flow.rs`, an extension of the event loop that calls across
//! components: an eviction deletes a pod as a scale-down would (the
//! activators stop routing to it, the queue-proxy drains it) and its
//! ReplicaSet creates a replacement at once, which the scheduler places on
//! another node and which cold-starts.
//!
//! Follows `cluster-autoscaler`'s `core/scaledown/actuation/actuator.go`
//! (taint, then `node-delete-delay-after-taint`, then drain and delete) and
//! `actuation/drain.go` (evict every pod but DaemonSet and mirror pods, wait
//! for them at most `max-graceful-termination-sec`).

use super::event::Event;
use super::Sim;

impl Sim<'_> {
    /// The Cluster Autoscaler's loop, or a node arriving, being drained or
    /// leaving.
    pub(super) fn on_node_event(&mut self, ev: Event) {
        let now = self.now;
        let pending = self.pods.pending();
        let bound = match (ev, self.pods.nodes_mut()) {
            (_, None) => return,
            (Event::ClusterScan, Some(n)) => n.count(),
            _ => 0,
        };
        let bound = if bound > 0 {
            self.pods.bound(bound)
        } else {
            Vec::new()
        };
        let Some(nodes) = self.pods.nodes_mut() else {
            return;
        };
        match ev {
            Event::ClusterScan => nodes.scan(&pending, bound, now, &mut self.q),
            Event::NodeReady { node } if nodes.node_ready(node) => {
                self.pods.retry_pending(now, &mut self.q);
            }
            Event::NodeGone { node } => nodes.node_gone(node, now),
            Event::NodeEvict { node } if nodes.start_eviction(node, now, &mut self.q) => {
                self.evict_node(node);
            }
            Event::NodeDrainDeadline { node } => nodes.drain_deadline(node, now, &mut self.q),
            _ => {}
        }
    }

    /// Evicts every pod of `node` that is not already terminating, then has
    /// each ReplicaSet replace its pods; the node's deletion starts once the
    /// last evicted pod is gone.
    fn evict_node(&mut self, node: u32) {
        let now = self.now;
        let victims = self.pods.evictable(node);
        let mut revs = Vec::new();
        for &(r, p) in &victims {
            let in_flight = self.proxies[r.idx()].in_flight(p);
            let d = self.pods.delete(r, p, in_flight, now, &mut self.q);
            if d.was_routable {
                self.activators.remove_routable(r, p);
            }
            if d.gone {
                self.proxies[r.idx()].pod_gone(p);
            }
            if !revs.contains(&r) {
                revs.push(r);
            }
        }
        for r in revs {
            self.pods.replace_evicted(r, now, &mut self.q);
            self.proxies[r.idx()].ensure_pods(self.pods.created(r), now);
        }
        if let Some(nodes) = self.pods.nodes_mut() {
            nodes.evicted(victims.len() as u64);
            nodes.maybe_drained(node, now, &mut self.q);
        }
    }
}
