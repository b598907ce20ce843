//! The autoscaler seam: what the engine asks of a revision's autoscaler,
//! whichever class it is (`autoscaling.knative.dev/class`).
//!
//! [`Autoscaler`] is the contract; [`Class`] is the closed set of classes
//! the model runs, dispatched by `match` (no trait objects on the event
//! path): the KPA ([`kpa::Kpa`], with its [`scraper::Scraper`]) and the HPA
//! ([`hpa::Hpa`]). The HPA also reads what the trait does not carry (pod
//! conditions, metrics-server samples): the engine reaches it through
//! [`Class::hpa_mut`] on its own 15 s events.

pub(crate) mod hpa;
pub(crate) mod kpa;
mod plan;
pub(crate) mod scraper;

pub(crate) use plan::{Plan, Settled};

use super::event::PodId;
use crate::knative::annotations::RevisionAnnotations;
use crate::knative::collector::Stat;
use crate::knative::config::AutoscalerConfig;
use crate::knative::hpa::ControllerSettings;
use crate::knative::kpa::{RevisionScaling, SksMode};
use crate::model::report::{ReconcileDecision, TickDecision};
use crate::sim::{SimDuration, SimRng, SimTime};

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
// One per revision, so the variants' size difference costs nothing, while
// boxing the KPA would add an indirection to every dispatch on the event path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Class {
    /// `kpa.autoscaling.knative.dev`.
    Kpa(kpa::Kpa),
    /// `hpa.autoscaling.knative.dev`.
    Hpa(hpa::Hpa),
}

impl Class {
    /// The autoscaler of a revision created at `now`, by its `class`
    /// annotation (the cluster default is always the KPA: validation
    /// refuses `pod-autoscaler-class: hpa…` in config-autoscaler).
    pub(crate) fn new(
        ann: &RevisionAnnotations,
        scaling: &RevisionScaling,
        reachable: bool,
        scrape_rng: SimRng,
        now: SimTime,
        hpa_flags: &ControllerSettings,
    ) -> Self {
        if ann.is_hpa() {
            Class::Hpa(hpa::Hpa::new(ann, scaling, reachable, hpa_flags))
        } else {
            Class::Kpa(kpa::Kpa::new(scaling, reachable, scrape_rng, now))
        }
    }

    /// The HPA, for an HPA-class revision.
    pub(crate) fn hpa_mut(&mut self) -> Option<&mut hpa::Hpa> {
        match self {
            Class::Hpa(h) => Some(h),
            Class::Kpa(_) => None,
        }
    }

    /// The HPA, for an HPA-class revision.
    pub(crate) fn hpa(&self) -> Option<&hpa::Hpa> {
        match self {
            Class::Hpa(h) => Some(h),
            Class::Kpa(_) => None,
        }
    }
}

// The decision log explains a class's steps where the class can; these are
// not part of the `Autoscaler` contract, so a new class need not provide them.
impl Class {
    /// The last decision, spelled out (`changed`: it enqueued a reconcile).
    #[allow(unreachable_patterns)]
    pub(crate) fn tick_detail(&self, changed: bool) -> Option<TickDecision> {
        match self {
            Class::Kpa(k) => Some(k.tick_detail(changed)),
            _ => None,
        }
    }

    /// The gates of a reconcile at `now` with `plan`, before it settles.
    #[allow(unreachable_patterns)]
    pub(crate) fn reconcile_detail(
        &self,
        now: SimTime,
        plan: &Plan,
        cfg: &AutoscalerConfig,
    ) -> Option<ReconcileDecision> {
        match self {
            Class::Kpa(k) => Some(k.reconcile_detail(now, plan, cfg)),
            _ => None,
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $a:ident => $e:expr) => {
        match $self {
            Class::Kpa($a) => $e,
            Class::Hpa($a) => $e,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knative::annotations::RevisionAnnotations;
    use crate::knative::config::DeploymentConfig;
    use crate::knative::kpa::resolve_revision_scaling;
    use crate::knative::kpa::MIN_ACTIVATORS;
    use crate::sim::{RngStreams, Stream};

    fn scaler(cfg: &AutoscalerConfig) -> Class {
        let scaling = resolve_revision_scaling(
            cfg,
            &DeploymentConfig::default(),
            0,
            &RevisionAnnotations::default(),
        );
        Class::new(
            &RevisionAnnotations::default(),
            &scaling,
            true,
            RngStreams::new(1).get(Stream::Scraper, 0),
            SimTime::ZERO,
            &ControllerSettings::default(),
        )
    }

    fn busy(c: f64) -> Stat {
        Stat {
            average_concurrent_requests: c,
            average_proxied_concurrent_requests: 0.0,
            request_count: c,
            proxied_request_count: 0.0,
        }
    }

    #[test]
    fn starts_activating_behind_the_activator() {
        let s = scaler(&AutoscalerConfig::default());
        assert_eq!(s.sks_mode(), SksMode::Proxy);
        assert_eq!(s.status().0, -1, "no decision yet");
        assert_eq!(s.activators(), MIN_ACTIVATORS as u32);
        assert!(!s.initialized());
    }

    #[test]
    fn load_seen_by_the_activator_raises_the_desired_scale() {
        let cfg = AutoscalerConfig::default();
        let mut s = scaler(&cfg);
        // Default target: 100 concurrent requests at 70 % → 70 per pod.
        for t in 0..6 {
            s.record_activator_stat(SimTime::from_secs(t), &busy(350.0));
        }
        assert!(s.decide(SimTime::from_secs(6), 0), "a new desired scale");
        assert_eq!(s.status().0, 5);
        let plan = s.plan(SimTime::from_secs(6), &cfg);
        assert_eq!(plan.replicas, Some(5));
        assert!(!s.decide(SimTime::from_secs(6), 0), "nothing changed");
    }

    #[test]
    fn a_stat_while_scaled_to_zero_pokes_the_decider() {
        let cfg = AutoscalerConfig::default();
        let mut s = scaler(&cfg);
        assert!(
            !s.record_activator_stat(SimTime::ZERO, &busy(0.0)),
            "desired unknown"
        );
        s.decide(SimTime::from_secs(1), 0);
        assert_eq!(s.status().0, 0, "no load, no pods");
        assert!(!s.record_activator_stat(SimTime::from_secs(2), &busy(0.0)));
        assert!(s.record_activator_stat(SimTime::from_secs(2), &busy(1.0)));
    }

    #[test]
    fn only_an_earlier_requeue_replaces_a_pending_one() {
        let mut s = scaler(&AutoscalerConfig::default());
        let now = SimTime::from_secs(10);
        let at = s.requeue(now, Some(SimDuration::from_secs(5))).unwrap();
        assert_eq!(at, SimTime::from_secs(15));
        assert_eq!(s.requeue(now, Some(SimDuration::from_secs(8))), None);
        let earlier = s.requeue(now, Some(SimDuration::from_secs(2))).unwrap();
        assert!(!s.take_requeue(at), "superseded");
        assert!(s.take_requeue(earlier));
        assert_eq!(s.requeue(now, None), None);
    }

    #[test]
    fn reaching_the_initial_scale_initializes_once_and_serves_directly() {
        let cfg = AutoscalerConfig::default();
        let mut s = scaler(&cfg);
        let plan = Plan {
            want: 1,
            replicas: Some(1),
            requeue_after: None,
        };
        let first = s.settle(SimTime::from_secs(5), &plan, 1, &cfg);
        assert!(first.initialized && first.condition_changed);
        assert!(s.initialized());
        let again = s.settle(SimTime::from_secs(6), &plan, 1, &cfg);
        assert!(!again.initialized && !again.condition_changed);
        assert!(!s.set_reachable(true), "already reachable");
        assert!(s.set_reachable(false));
    }
}
