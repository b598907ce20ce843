//! What a reconcile of any autoscaler class hands back to the engine.

use crate::sim::SimDuration;

/// What one reconcile of the PodAutoscaler wants done to the Deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The scale reported as `want` (−1 = unknown).
    pub(crate) want: i32,
    /// Set the Deployment's replicas to this.
    pub(crate) replicas: Option<u32>,
    /// Reconcile again after this long.
    pub(crate) requeue_after: Option<SimDuration>,
}

/// What the rest of a reconcile changed, once the replicas are set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Settled {
    /// A new number of activators for the revision's path.
    pub(crate) activators: Option<u32>,
    /// The revision reached its initial scale for the first time.
    pub(crate) initialized: bool,
    /// The Active condition changed (the status update enqueues the PA again).
    pub(crate) condition_changed: bool,
}
