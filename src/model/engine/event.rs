//! The events of the cluster model and the typed ids they carry. Shared by
//! every component; no component state lives here.

use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident($t:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(pub(crate) $t);

        impl $name {
            /// The id as an index into its component's table.
            #[inline]
            pub(crate) fn idx(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// A revision, in creation order (scenario revisions first, then those a
    /// timeline creates).
    RevId(u16)
);
id!(
    /// A pod of one revision, in creation order within that revision.
    PodId(u32)
);
id!(
    /// One activator replica of the cluster.
    ActId(u16)
);
id!(
    /// A slot of the request table; reused after the request ends, so it is
    /// always paired with the slot's generation.
    ReqId(u32)
);
id!(
    /// A workload source, in scenario order.
    SourceId(u32)
);

/// Everything that happens at a simulated instant.
///
/// The tag is a `u32` so that every field starts on a 4-byte boundary: with
/// a one-byte tag the compiler copied an event out of the queue as bytes
/// 1 to 15 in two overlapping 8-byte moves, and reading those back stalled
/// each pop on a failed store-to-load forward (6 % of a 10-pod run).
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub(crate) enum Event {
    /// An open-loop source's pending arrival is due.
    Arrival {
        /// The source.
        source: SourceId,
    },
    /// A closed-loop client sends its next request.
    ClientSend {
        /// The source the client belongs to.
        source: SourceId,
    },
    /// The application finished a request.
    ServiceDone {
        /// The request.
        req: ReqId,
        /// Its slot generation when scheduled.
        gen: u32,
    },
    /// The request's deadline came before the application finished (504).
    /// A variant of its own rather than a flag on `ServiceDone` keeps an
    /// event at 12 bytes, so that the queue's slots are 16.
    ServiceCutOff {
        /// The request.
        req: ReqId,
        /// Its slot generation when scheduled.
        gen: u32,
    },
    /// A waiting request reached its deadline.
    Timeout {
        /// The request.
        req: ReqId,
        /// Its slot generation when armed.
        gen: u32,
    },
    /// The scheduler bound a pod to a node.
    PodScheduled {
        /// Its revision.
        rev: RevId,
        /// The pod.
        pod: PodId,
    },
    /// An activator probe found the pod's queue-proxy ready.
    PodRoutable {
        /// Its revision.
        rev: RevId,
        /// The pod.
        pod: PodId,
    },
    /// The kubelet's readiness probe passed.
    PodReady {
        /// Its revision.
        rev: RevId,
        /// The pod.
        pod: PodId,
    },
    /// A terminating pod's drain sleep ended.
    DrainQuiet {
        /// Its revision.
        rev: RevId,
        /// The pod.
        pod: PodId,
    },
    /// Queue-proxies close one reporting period (a group of pods that
    /// report back to back; see `qp_reports`).
    QpReport {
        /// The group.
        group: u32,
    },
    /// The autoscaler scrapes a revision.
    Scrape {
        /// The revision.
        rev: RevId,
    },
    /// The autoscaler's decider tick for a revision.
    DeciderTick {
        /// The revision.
        rev: RevId,
    },
    /// An activator sends its stats to the autoscaler.
    ActivatorReport {
        /// The activator.
        act: ActId,
    },
    /// metrics-server scrapes the pods of a revision that uses the
    /// resource model.
    MetricsScrape {
        /// The revision.
        rev: RevId,
    },
    /// The HPA controller syncs an HPA-class revision's HPA.
    HpaSync {
        /// The revision.
        rev: RevId,
    },
    /// The PodAutoscaler reconciler runs for a revision.
    Reconcile {
        /// The revision.
        rev: RevId,
        /// A delayed requeue (dropped unless it is the latest one asked for).
        requeue: bool,
    },
    /// A simulated second closes (timeseries rows).
    Second,
    /// The run ends.
    End,
    /// The `step`-th entry of the scenario's timeline is due.
    Timeline {
        /// Index into the timeline.
        step: u32,
    },
    /// The route reconciler runs (traffic, latest ready revision or a
    /// rollout step changed).
    RouteReconcile {
        /// The Service whose route it reconciles.
        svc: u16,
    },
    /// The Cluster Autoscaler's loop runs (only with node pools).
    ClusterScan,
    /// A node the autoscaler asked for is Ready.
    NodeReady {
        /// The node.
        node: u32,
    },
    /// A node being deleted is gone.
    NodeGone {
        /// The node.
        node: u32,
    },
    /// The autoscaler evicts the pods of a node it is draining.
    NodeEvict {
        /// The node.
        node: u32,
    },
    /// `max-graceful-termination-sec` after a drained node's evictions.
    NodeDrainDeadline {
        /// The node.
        node: u32,
    },
    /// An event source sends its next event to the Broker.
    SourceEmits {
        /// The source, in `[eventing]` order.
        src: u32,
    },
    /// A delivery attempt reaches the Trigger's subscriber.
    DeliveryAttempt {
        /// The delivery (one event for one Trigger).
        delivery: u32,
    },
    /// A delivery attempt's `timeout` passed.
    DeliveryTimeout {
        /// The delivery.
        delivery: u32,
        /// Which attempt (1 = the first) the timer was armed for.
        attempt: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_index_and_print_their_number() {
        assert_eq!(RevId(3).idx(), 3);
        assert_eq!(PodId(70_000).idx(), 70_000);
        assert_eq!(ActId(1).to_string(), "1");
        assert!(ReqId(1) < ReqId(2));
    }

    #[test]
    fn events_stay_small() {
        // The queue holds millions of events in long runs, and its heap
        // moves one per level of a pop.
        assert_eq!(std::mem::size_of::<Event>(), 12);
    }
}
