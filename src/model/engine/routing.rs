//! The route state a timeline changes: each revision's routing label and
//! the route reconciler's memory (traffic block, ConfigMaps, rollout,
//! effective splits, latest ready revision). Plain data; the reconciler that
//! drives it is `timeline.rs`.

use super::event::RevId;
use crate::knative::config::{DeploymentConfig, NetworkConfig};
use crate::knative::route::{Rollout, TrafficTarget};
use crate::sim::{RngStreams, SimDuration, SimTime};
use std::collections::BTreeMap;

/// How long the ingress takes to program a changed split. Knative measures
/// the first rollout step from this (`ObserveReady`), and never counts less
/// than a second.
pub(crate) const INGRESS_READY_DELAY: SimDuration = SimDuration::from_secs(1);

/// The revision's `serving.knative.dev/routingState` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Routing {
    /// Created, not yet referenced by the route: reachability unknown, which
    /// the autoscaler treats as reachable.
    Pending,
    /// Referenced by the route.
    Active,
    /// No longer referenced: unreachable.
    Reserve,
}

/// Route and configuration state that only a timeline changes.
pub(crate) struct Dynamic {
    /// `config-network` in effect (its rollout duration).
    pub(crate) network: NetworkConfig,
    /// `config-deployment` in effect.
    pub(crate) deployment: DeploymentConfig,
    /// Streams for revisions created mid-run.
    pub(crate) streams: RngStreams,
    /// Each Service's route, in Service order.
    pub(crate) routes: Vec<Route>,
}

/// One Service's route and its reconciler's memory.
pub(crate) struct Route {
    /// The Service's traffic block in effect.
    pub(crate) traffic: Vec<TrafficTarget>,
    /// The route's rollout-duration annotation, if any.
    pub(crate) rollout_annotation: Option<SimDuration>,
    /// The gradual rollout's state (`Rollout` of `rollout.go`).
    pub(crate) rollout: Rollout,
    /// Effective splits by tag ("" = the default route), as programmed.
    pub(crate) splits: BTreeMap<String, Vec<(String, u32)>>,
    /// The Configuration's latest ready revision.
    pub(crate) latest_ready: RevId,
    /// When the ingress reports a changed split programmed.
    pub(crate) ingress_ready_at: Option<SimTime>,
    /// The next rollout step already scheduled.
    pub(crate) wakeup: Option<SimTime>,
    /// The Service was deleted: its route is gone for good.
    pub(crate) deleted: bool,
}
