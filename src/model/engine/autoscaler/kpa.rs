//! The Knative Pod Autoscaler of one revision: the metric collector and
//! scraper, the decider, and the PodAutoscaler reconciler's state (desired
//! scale, Active condition, SKS mode, activator count).
//!
//! The arithmetic is `src/knative/`'s: [`Collector`]
//! (`pkg/autoscaler/metrics/collector.go`), [`Decider`]
//! (`pkg/autoscaler/scaling/autoscaler.go`) and the reconciler's functions in
//! [`crate::knative::kpa`] (`pkg/reconciler/autoscaling/kpa/{kpa.go,scaler.go}`).
//! This file holds their state between events and applies the multiscaler's
//! rule that a changed desired scale or a flipped excess-burst-capacity sign
//! enqueues the PodAutoscaler (`pkg/autoscaler/scaling/multiscaler.go`).

use super::plan::{Plan, Settled};
use super::scraper::Scraper;
use crate::knative::collector::{Collector, Stat};
use crate::knative::config::AutoscalerConfig;
use crate::knative::decider::ScalingMetric;
use crate::knative::decider::{initial_excess_burst_capacity, same_sign, Decider};
use crate::knative::kpa::{
    compute_active_condition, compute_num_activators, scaler_scale, sks_mode, ActiveCondition,
    PaState, RevisionScaling, ScalerInput, SksMode, MIN_ACTIVATORS,
};
use crate::model::engine::event::PodId;
use crate::model::report::{ReconcileDecision, TickDecision};
use crate::sim::{SimDuration, SimRng, SimTime};

/// One revision's KPA.
pub(crate) struct Kpa {
    /// Scaling parameters in effect (they change with ConfigMaps and
    /// annotations on a timeline).
    scaling: RevisionScaling,
    decider: Decider,
    collector: Collector,
    scraper: Scraper,
    status_desired: i32,
    status_ebc: i32,
    last_stable: f64,
    last_panic: f64,
    condition: ActiveCondition,
    scale_target_initialized: bool,
    mode: SksMode,
    proxy_since: Option<SimTime>,
    num_activators: u32,
    reachable: bool,
    requeue_at: Option<SimTime>,
    /// What the last decision saw, for the decision log.
    last_tick: LastTick,
}

/// The inputs of the last decision that the decider does not keep.
#[derive(Clone, Copy, Default)]
struct LastTick {
    valid: bool,
    ready: usize,
    was_panic: bool,
}

impl Kpa {
    /// The KPA of a revision created at `now` with `scaling`; the scraper
    /// draws from `scrape_rng`.
    pub(crate) fn new(
        scaling: &RevisionScaling,
        reachable: bool,
        scrape_rng: SimRng,
        now: SimTime,
    ) -> Self {
        let mut dspec = scaling.decider.clone();
        dspec.reachable = reachable;
        let ebc0 = initial_excess_burst_capacity(&dspec, scaling.initial_scale);
        Kpa {
            scaling: scaling.clone(),
            decider: Decider::new(dspec, 0, now),
            collector: Collector::new(
                scaling.stable_window,
                scaling.panic_window,
                scaling.aggregation,
                scaling.has_scrape_target,
            ),
            scraper: Scraper::new(scrape_rng),
            status_desired: -1,
            status_ebc: ebc0,
            last_stable: 0.0,
            last_panic: 0.0,
            condition: ActiveCondition {
                state: PaState::Activating,
                since: now,
            },
            scale_target_initialized: false,
            mode: SksMode::Proxy,
            proxy_since: Some(now),
            num_activators: MIN_ACTIVATORS as u32,
            reachable,
            requeue_at: None,
            last_tick: LastTick::default(),
        }
    }

    pub(super) fn record_activator_stat(&mut self, now: SimTime, stat: &Stat) -> bool {
        // Recorded at the whole second of receipt; a non-zero stat while
        // scaled to zero pokes the decider at once.
        self.collector
            .record(SimTime::from_secs(now.whole_secs()), stat);
        self.status_desired == 0 && stat.average_concurrent_requests != 0.0
    }

    pub(super) fn scrape<'a>(
        &mut self,
        now: SimTime,
        ready: &[PodId],
        started: impl Fn(PodId) -> SimTime,
        report: impl Fn(PodId) -> &'a Stat,
    ) {
        let stable_window = self.decider.spec().stable_window;
        if !self.scaling.has_scrape_target {
            return;
        }
        if let Some(stat) = self
            .scraper
            .scrape(now, stable_window, ready, started, report)
        {
            self.collector.record(now, &stat);
        }
    }

    pub(super) fn decide(&mut self, now: SimTime, ready: usize) -> bool {
        let metric = self.decider.spec().scaling_metric;
        let observed = self.collector.stable_and_panic(now, metric);
        self.last_tick = LastTick {
            valid: observed.is_some(),
            ready,
            was_panic: self.decider.in_panic(),
        };
        if let Some((s, p)) = observed {
            self.last_stable = s;
            self.last_panic = p;
        }
        let res = self.decider.scale(now, Some(ready as i32), observed);
        if !res.scale_valid {
            return false;
        }
        let changed = res.desired_pod_count != self.status_desired
            || !same_sign(res.excess_burst_capacity, self.status_ebc);
        self.status_desired = res.desired_pod_count;
        self.status_ebc = res.excess_burst_capacity;
        changed
    }

    pub(super) fn plan(&self, now: SimTime, cfg: &AutoscalerConfig) -> Plan {
        let scaling = &self.scaling;
        let d = scaler_scale(&ScalerInput {
            now,
            desired_scale: self.status_desired,
            condition: self.condition,
            reachable: self.reachable,
            min_scale: scaling.min_scale,
            max_scale: scaling.max_scale,
            initial_scale: scaling.initial_scale,
            scale_target_initialized: self.scale_target_initialized,
            enable_scale_to_zero: cfg.enable_scale_to_zero,
            stable_window: scaling.stable_window,
            grace_period: cfg.scale_to_zero_grace_period,
            retention: scaling.scale_to_zero_pod_retention,
            activation_timeout: scaling.activation_timeout(),
            tbc: scaling.decider.target_burst_capacity,
            proxy_for: self.proxy_since.map(|t| now - t),
        });
        Plan {
            want: d.want,
            replicas: (d.apply && d.want >= 0).then_some(d.want as u32),
            requeue_after: d.requeue_after,
        }
    }

    pub(super) fn requeue(&mut self, now: SimTime, after: Option<SimDuration>) -> Option<SimTime> {
        let at = now + after?;
        // Only an earlier requeue (or one replacing a past one) is scheduled.
        if self.requeue_at.is_none_or(|t| at < t || t < now) {
            self.requeue_at = Some(at);
            return Some(at);
        }
        None
    }

    pub(super) fn take_requeue(&mut self, t: SimTime) -> bool {
        if self.requeue_at != Some(t) {
            return false;
        }
        self.requeue_at = None;
        true
    }

    pub(super) fn settle(
        &mut self,
        now: SimTime,
        plan: &Plan,
        ready: usize,
        cfg: &AutoscalerConfig,
    ) -> Settled {
        let ready = ready as i32;
        let mut mode = sks_mode(plan.want, self.status_ebc);
        if ready == 0 {
            // The SKS forces Proxy while the private service has no endpoints.
            mode = SksMode::Proxy;
        }
        if mode != self.mode {
            self.mode = mode;
            self.proxy_since = (mode == SksMode::Proxy).then_some(now);
        }
        let spec = self.decider.spec();
        let n = compute_num_activators(
            ready,
            spec.total_value,
            spec.target_burst_capacity,
            cfg.activator_capacity,
        ) as u32;
        let activators = (n != self.num_activators).then(|| {
            self.num_activators = n;
            n
        });
        let (min_scale, initial) = if self.reachable {
            (self.scaling.min_scale, self.scaling.initial_scale)
        } else {
            (0, 0)
        };
        let min_ready = if self.scale_target_initialized {
            min_scale.max(1)
        } else {
            min_scale.max(initial)
        };
        let prev = self.condition;
        self.condition = compute_active_condition(prev, now, plan.want, ready, min_ready);
        let initialized = ready >= min_ready && !self.scale_target_initialized;
        if initialized {
            self.scale_target_initialized = true;
        }
        Settled {
            activators,
            initialized,
            condition_changed: self.condition.state != prev.state,
        }
    }

    pub(super) fn update_scaling(&mut self, now: SimTime, scaling: RevisionScaling) {
        let mut spec = scaling.decider.clone();
        spec.reachable = self.reachable;
        self.decider.update(spec);
        self.collector.update_windows_at(
            now,
            scaling.stable_window,
            scaling.panic_window,
            scaling.has_scrape_target,
        );
        self.scaling = scaling;
    }

    pub(super) fn set_reachable(&mut self, reachable: bool) -> bool {
        if self.reachable == reachable {
            return false;
        }
        self.reachable = reachable;
        let mut spec = self.decider.spec().clone();
        spec.reachable = reachable;
        self.decider.update(spec);
        true
    }

    pub(super) fn activators(&self) -> u32 {
        self.num_activators
    }

    pub(super) fn sks_mode(&self) -> SksMode {
        self.mode
    }

    pub(super) fn in_panic(&self) -> bool {
        self.decider.in_panic()
    }

    pub(super) fn initialized(&self) -> bool {
        self.scale_target_initialized
    }

    pub(super) fn observed(&self) -> (f64, f64) {
        (self.last_stable, self.last_panic)
    }

    pub(super) fn status(&self) -> (i32, i32) {
        (self.status_desired, self.status_ebc)
    }

    /// The last decision, spelled out for the decision log: the wishes
    /// before and after the rate limits are the decider's own arithmetic
    /// (`pkg/autoscaler/scaling/autoscaler.go`) redone from its inputs.
    pub(super) fn tick_detail(&self, changed: bool) -> TickDecision {
        let spec = self.decider.spec();
        let t = self.last_tick;
        let ready_f = f64::max(1.0, t.ready as f64);
        let up = (spec.max_scale_up_rate * ready_f).ceil();
        let down = if spec.reachable {
            (ready_f / spec.max_scale_down_rate).floor()
        } else {
            0.0
        };
        let ws = (self.last_stable / spec.target_value).ceil();
        let wp = (self.last_panic / spec.target_value).ceil();
        let panic = self.decider.in_panic();
        TickDecision {
            valid: t.valid,
            metric: match spec.scaling_metric {
                ScalingMetric::Concurrency => "concurrency",
                ScalingMetric::Rps => "rps",
            },
            target: spec.target_value,
            observed_stable: self.last_stable + 0.0,
            observed_panic: self.last_panic + 0.0,
            wanted_stable: ws as i32,
            wanted_panic: wp as i32,
            max_scale_up: up as i32,
            max_scale_down: down as i32,
            limited_stable: ws.max(down).min(up) as i32,
            limited_panic: wp.max(down).min(up) as i32,
            panic,
            panic_entered: panic && !t.was_panic,
            panic_exited: !panic && t.was_panic,
            desired: self.status_desired,
            excess_burst_capacity: self.status_ebc,
            changed,
        }
    }

    /// The gates a reconcile at `now` goes through with `plan`, as they
    /// stood before it settled.
    pub(super) fn reconcile_detail(
        &self,
        now: SimTime,
        plan: &Plan,
        cfg: &AutoscalerConfig,
    ) -> ReconcileDecision {
        ReconcileDecision {
            desired: self.status_desired,
            want: plan.want,
            replicas: plan.replicas,
            requeue_after: plan.requeue_after,
            state: match self.condition.state {
                PaState::Activating => "activating",
                PaState::Active => "active",
                PaState::Inactive => "inactive",
            },
            state_for: now.saturating_since(self.condition.since),
            proxy_for: self.proxy_since.map(|t| now.saturating_since(t)),
            grace_period: cfg.scale_to_zero_grace_period,
            retention: self.scaling.scale_to_zero_pod_retention,
            activation_timeout: self.scaling.activation_timeout(),
            ..ReconcileDecision::default()
        }
    }
}
