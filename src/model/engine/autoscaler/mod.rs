//! The autoscaler seam: what the engine asks of a revision's autoscaler,
//! whichever class it is (`autoscaling.knative.dev/class`).
//!
//! [`Autoscaler`] is the contract; [`Class`] is the closed set of classes
//! the model runs, dispatched by `match` (no trait objects on the event
//! path). The KPA ([`kpa::Kpa`], with its [`scraper::Scraper`]) is the only
//! class today. Another class, such as the HPA, is a new file here, a new
//! variant of [`Class`] and one arm in [`Class::new`]; the other components
//! do not change.

pub(crate) mod kpa;
pub(crate) mod scraper;

use super::event::PodId;
use crate::knative::collector::Stat;
use crate::knative::config::AutoscalerConfig;
use crate::knative::kpa::{RevisionScaling, SksMode};
use crate::sim::{SimDuration, SimRng, SimTime};

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

/// A revision's autoscaler, as the engine drives it. Reconciling is split in
/// two around setting the replicas ([`Autoscaler::plan`], then
/// [`Autoscaler::settle`] with the pods ready after that), because scaling
/// down can remove ready pods that the rest of the reconcile counts.
pub(crate) trait Autoscaler {
    /// An activator's stat arrives; true if it should trigger a decision now.
    fn record_activator_stat(&mut self, now: SimTime, stat: &Stat) -> bool;
    /// The scrape tick: reads the `ready` pods' last reports.
    fn scrape<'a>(
        &mut self,
        now: SimTime,
        ready: &[PodId],
        started: impl Fn(PodId) -> SimTime,
        report: impl Fn(PodId) -> &'a Stat,
    );
    /// Decides a desired scale; true if the PodAutoscaler must reconcile.
    fn decide(&mut self, now: SimTime, ready: usize) -> bool;
    /// First half of a reconcile: the replicas to set.
    fn plan(&self, now: SimTime, cfg: &AutoscalerConfig) -> Plan;
    /// When to requeue the reconcile, if a new requeue is due.
    fn requeue(&mut self, now: SimTime, after: Option<SimDuration>) -> Option<SimTime>;
    /// A requeue scheduled for `t` fires: true unless a later one replaced it.
    fn take_requeue(&mut self, t: SimTime) -> bool;
    /// Second half of a reconcile, given the pods ready after the replicas
    /// were set.
    fn settle(
        &mut self,
        now: SimTime,
        plan: &Plan,
        ready: usize,
        cfg: &AutoscalerConfig,
    ) -> Settled;
    /// New scaling parameters (ConfigMaps or annotations changed).
    fn update_scaling(&mut self, now: SimTime, scaling: RevisionScaling);
    /// The route started or stopped referencing the revision; true if that
    /// changed anything.
    fn set_reachable(&mut self, reachable: bool) -> bool;
    /// Activators the revision's path should have.
    fn activators(&self) -> u32;
    /// Whether the activator is in the request path.
    fn sks_mode(&self) -> SksMode;
    /// The decider is in panic mode.
    fn in_panic(&self) -> bool;
    /// The revision has reached its initial scale once.
    fn initialized(&self) -> bool;
    /// Stable and panic metric values of the last decision.
    fn observed(&self) -> (f64, f64);
    /// Desired scale and excess burst capacity of the last decision.
    fn status(&self) -> (i32, i32);
}

/// The autoscaler class of a revision.
pub(crate) enum Class {
    /// `kpa.autoscaling.knative.dev`.
    Kpa(kpa::Kpa),
}

impl Class {
    /// The autoscaler of a revision created at `now`. Validation admits only
    /// the KPA class, so this is where another class would be chosen.
    pub(crate) fn new(
        scaling: &RevisionScaling,
        reachable: bool,
        scrape_rng: SimRng,
        now: SimTime,
    ) -> Self {
        Class::Kpa(kpa::Kpa::new(scaling, reachable, scrape_rng, now))
    }
}

macro_rules! dispatch {
    ($self:ident, $a:ident => $e:expr) => {
        match $self {
            Class::Kpa($a) => $e,
        }
    };
}

impl Autoscaler for Class {
    #[inline]
    fn record_activator_stat(&mut self, now: SimTime, stat: &Stat) -> bool {
        dispatch!(self, a => a.record_activator_stat(now, stat))
    }
    fn scrape<'a>(
        &mut self,
        now: SimTime,
        ready: &[PodId],
        started: impl Fn(PodId) -> SimTime,
        report: impl Fn(PodId) -> &'a Stat,
    ) {
        dispatch!(self, a => a.scrape(now, ready, started, report))
    }
    fn decide(&mut self, now: SimTime, ready: usize) -> bool {
        dispatch!(self, a => a.decide(now, ready))
    }
    fn plan(&self, now: SimTime, cfg: &AutoscalerConfig) -> Plan {
        dispatch!(self, a => a.plan(now, cfg))
    }
    fn requeue(&mut self, now: SimTime, after: Option<SimDuration>) -> Option<SimTime> {
        dispatch!(self, a => a.requeue(now, after))
    }
    fn take_requeue(&mut self, t: SimTime) -> bool {
        dispatch!(self, a => a.take_requeue(t))
    }
    fn settle(
        &mut self,
        now: SimTime,
        plan: &Plan,
        ready: usize,
        cfg: &AutoscalerConfig,
    ) -> Settled {
        dispatch!(self, a => a.settle(now, plan, ready, cfg))
    }
    fn update_scaling(&mut self, now: SimTime, scaling: RevisionScaling) {
        dispatch!(self, a => a.update_scaling(now, scaling))
    }
    fn set_reachable(&mut self, reachable: bool) -> bool {
        dispatch!(self, a => a.set_reachable(reachable))
    }
    fn activators(&self) -> u32 {
        dispatch!(self, a => a.activators())
    }
    #[inline]
    fn sks_mode(&self) -> SksMode {
        dispatch!(self, a => a.sks_mode())
    }
    fn in_panic(&self) -> bool {
        dispatch!(self, a => a.in_panic())
    }
    fn initialized(&self) -> bool {
        dispatch!(self, a => a.initialized())
    }
    fn observed(&self) -> (f64, f64) {
        dispatch!(self, a => a.observed())
    }
    fn status(&self) -> (i32, i32) {
        dispatch!(self, a => a.status())
    }
}
