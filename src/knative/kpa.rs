//! The KPA reconciler's arithmetic: target resolution
//! (`pkg/reconciler/autoscaling/resources/target.go`), the panic window of
//! `MakeMetric` (`resources/metric.go`), `MakeDecider` and
//! `GetInitialScale` (`kpa/resources/decider.go`), `computeNumActivators`,
//! the SKS mode choice and `computeActiveCondition` (`kpa/kpa.go`), and
//! `scaler.scale`/`handleScaleToZero` (`kpa/scaler.go`).

use super::annotations::RevisionAnnotations;
use super::buckets::Aggregation;
use super::config::{AutoscalerConfig, DeploymentConfig, BUCKET_SIZE, TARGET_MIN};
use super::decider::{DeciderSpec, ScalingMetric};
use crate::sim::{SimDuration, SimTime};

/// `minActivators`: the fewest activators put in a revision's path.
pub const MIN_ACTIVATORS: i32 = 2;
/// `activationTimeoutBuffer`, added to the progress deadline.
pub const ACTIVATION_TIMEOUT_BUFFER: SimDuration = SimDuration::from_secs(30);
/// Re-enqueue delay when a long-active PA is deactivated while its SKS is
/// already proxying.
pub const DEACTIVATION_REQUEUE: SimDuration = SimDuration::from_secs(3);

/// `ResolveMetricTarget` → `(target, total)`: the per-pod target after
/// utilization (at least 0.01) and the per-pod total capacity.
pub fn resolve_metric_target(
    cfg: &AutoscalerConfig,
    container_concurrency: u32,
    ann: &RevisionAnnotations,
) -> (f64, f64) {
    let (mut total, mut tu) = match ann.metric {
        ScalingMetric::Rps => (cfg.rps_target_default, cfg.target_utilization),
        ScalingMetric::Concurrency => {
            let total = if container_concurrency == 0 {
                cfg.container_concurrency_target_default
            } else {
                f64::from(container_concurrency)
            };
            (total, cfg.container_concurrency_target_fraction)
        }
    };
    if let Some(target) = ann.target {
        total = target;
        // A target above the hard limit could never be reached.
        if ann.metric == ScalingMetric::Concurrency && container_concurrency != 0 {
            total = target.min(f64::from(container_concurrency));
        }
    }
    if let Some(p) = ann.target_utilization_percentage {
        tu = p / 100.0;
    }
    (f64::max(TARGET_MIN, total * tu), total)
}

/// `MakeMetric`'s panic window: `stable × percentage / 100`, rounded to a
/// whole second (half away from zero, as `Duration.Round`), at least 1 s.
pub fn panic_window(stable_window: SimDuration, panic_window_percentage: f64) -> SimDuration {
    // Go converts the float product back to integer nanoseconds by truncation.
    let ns = (stable_window.as_nanos() as f64 * panic_window_percentage / 100.0) as u64;
    let sec = 1_000_000_000;
    let r = ns % sec;
    let rounded = if r + r < sec { ns - r } else { ns + sec - r };
    SimDuration(rounded).max(BUCKET_SIZE)
}

/// `computeNumActivators`: enough activators for the ready pods' capacity
/// plus the burst capacity, at least two (always two with TBC = 0).
pub fn compute_num_activators(
    ready_pods: i32,
    total_value: f64,
    tbc: f64,
    activator_capacity: f64,
) -> i32 {
    if tbc == 0.0 {
        return MIN_ACTIVATORS;
    }
    let mut capacity = ready_pods as f64 * total_value;
    if tbc > 0.0 {
        capacity += tbc;
    }
    f64::max(
        MIN_ACTIVATORS as f64,
        (capacity / activator_capacity).ceil(),
    ) as i32
}

/// `applyBounds`: clamps `x` to `[min, max]`, where max 0 means unbounded.
pub fn apply_bounds(min: i32, max: i32, x: i32) -> i32 {
    if x < min {
        return min;
    }
    if max != 0 && x > max {
        return max;
    }
    x
}

/// Everything the simulator needs for one revision, from the CM,
/// config-deployment, the revision's CC and its annotations (annotation wins
/// over CM as Knative does). decider.reachable = true; caller updates it.
#[derive(Clone, Debug, PartialEq)]
pub struct RevisionScaling {
    /// The decider's spec (`MakeDecider`).
    pub decider: DeciderSpec,
    /// Stable window of the Metric.
    pub stable_window: SimDuration,
    /// Panic window of the Metric.
    pub panic_window: SimDuration,
    /// Bucket averaging.
    pub aggregation: Aggregation,
    /// Lower scale bound for a reachable revision (annotation or CM).
    pub min_scale: i32,
    /// Upper scale bound (0 = none).
    pub max_scale: i32,
    /// `GetInitialScale`.
    pub initial_scale: i32,
    /// Last-pod retention for a reachable revision (annotation or CM).
    pub scale_to_zero_pod_retention: SimDuration,
    /// Progress deadline (annotation or config-deployment).
    pub progress_deadline: SimDuration,
    /// False iff TBC == −1: then nothing is scraped.
    pub has_scrape_target: bool,
}

impl RevisionScaling {
    /// `progressDeadline + activationTimeoutBuffer`.
    pub fn activation_timeout(&self) -> SimDuration {
        self.progress_deadline + ACTIVATION_TIMEOUT_BUFFER
    }
}

/// Resolves one revision's autoscaling parameters (`MakeDecider`,
/// `MakeMetric`, `ScaleBounds`, `GetInitialScale`, `lastPodRetention`, the
/// activation timeout and `resolveScrapeTarget`).
pub fn resolve_revision_scaling(
    cfg: &AutoscalerConfig,
    dep: &DeploymentConfig,
    container_concurrency: u32,
    ann: &RevisionAnnotations,
) -> RevisionScaling {
    let (target, total) = resolve_metric_target(cfg, container_concurrency, ann);
    let tbc = ann
        .target_burst_capacity
        .unwrap_or(cfg.target_burst_capacity);
    let stable_window = ann.window.unwrap_or(cfg.stable_window);
    let pwp = ann
        .panic_window_percentage
        .unwrap_or(cfg.panic_window_percentage);
    let decider = DeciderSpec {
        target_value: target,
        total_value: total,
        target_burst_capacity: tbc,
        panic_threshold: ann
            .panic_threshold_percentage
            .unwrap_or(cfg.panic_threshold_percentage)
            / 100.0,
        max_scale_up_rate: cfg.max_scale_up_rate,
        max_scale_down_rate: cfg.max_scale_down_rate,
        stable_window,
        scale_down_delay: ann.scale_down_delay.unwrap_or(cfg.scale_down_delay),
        reachable: true,
        activation_scale: ann.activation_scale.unwrap_or(0),
        scaling_metric: ann.metric,
    };
    RevisionScaling {
        decider,
        stable_window,
        panic_window: panic_window(stable_window, pwp),
        aggregation: ann.aggregation,
        min_scale: ann.min_scale.unwrap_or(cfg.min_scale),
        max_scale: ann.max_scale.unwrap_or(cfg.max_scale),
        initial_scale: ann.effective_initial_scale(cfg),
        scale_to_zero_pod_retention: ann
            .scale_to_zero_pod_retention_period
            .unwrap_or(cfg.scale_to_zero_pod_retention_period),
        progress_deadline: ann.progress_deadline.unwrap_or(dep.progress_deadline),
        has_scrape_target: tbc != -1.0,
    }
}

/// The PA's `Active` condition status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaState {
    /// Active = Unknown: pods requested, not yet ready.
    Activating,
    /// Active = True.
    Active,
    /// Active = False: scaled (or about to scale) to zero.
    Inactive,
}

/// The `Active` condition with its last transition time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActiveCondition {
    /// Current status.
    pub state: PaState,
    /// When the status last changed.
    pub since: SimTime,
}

/// SKS operation mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SksMode {
    /// Ingress sends requests straight to the pods.
    Serve,
    /// Ingress sends requests to activators.
    Proxy,
}

/// Serve iff want > 0 && ebc >= 0 (`ReconcileKind`; −1 = unknown → Proxy).
pub fn sks_mode(want: i32, excess_burst_capacity: i32) -> SksMode {
    if want > 0 && excess_burst_capacity >= 0 {
        SksMode::Serve
    } else {
        SksMode::Proxy
    }
}

/// Inputs of one `scaler.scale` call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScalerInput {
    /// Reconcile time.
    pub now: SimTime,
    /// The decider's `Status.DesiredScale` (−1 = none yet).
    pub desired_scale: i32,
    /// The PA's Active condition.
    pub condition: ActiveCondition,
    /// Whether any route references the revision.
    pub reachable: bool,
    /// Lower bound for a reachable revision (ignored when unreachable).
    pub min_scale: i32,
    /// Upper bound (0 = none).
    pub max_scale: i32,
    /// `GetInitialScale`.
    pub initial_scale: i32,
    /// Whether the PA has ever reached its initial scale.
    pub scale_target_initialized: bool,
    /// `enable-scale-to-zero`.
    pub enable_scale_to_zero: bool,
    /// The revision's stable window.
    pub stable_window: SimDuration,
    /// `scale-to-zero-grace-period`.
    pub grace_period: SimDuration,
    /// Last-pod retention for a reachable revision.
    pub retention: SimDuration,
    /// Progress deadline + 30 s.
    pub activation_timeout: SimDuration,
    /// The revision's TBC. Knative skips the activator probe for −1; the
    /// simulator's probe always succeeds, so the result does not depend on it.
    pub tbc: f64,
    /// None if SKS ActivatorEndpointsPopulated is not True, else how long it
    /// has been True.
    pub proxy_for: Option<SimDuration>,
}

/// What `scaler.scale` decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalerDecision {
    /// The scale to report as `want` (−1 = unknown).
    pub want: i32,
    /// Whether the Deployment's replicas are patched to `want`.
    pub apply: bool,
    /// Reconcile the PA again after this long.
    pub requeue_after: Option<SimDuration>,
}

/// scaler.scale(): steps 1-5 of §4.3 (bounds, initial scale,
/// handleScaleToZero; the activator probe always succeeds in the
/// simulator). Reachable=false → min 0, no initial-scale floor, retention 0.
pub fn scaler_scale(input: &ScalerInput) -> ScalerDecision {
    let i = input;
    if i.desired_scale < 0 && i.condition.state != PaState::Activating {
        return ScalerDecision {
            want: i.desired_scale,
            apply: false,
            requeue_after: None,
        };
    }
    let mut min = if i.reachable { i.min_scale } else { 0 };
    if i.initial_scale > 1 && !i.scale_target_initialized && i.reachable {
        min = min.max(i.initial_scale);
    }
    let desired = apply_bounds(min, i.max_scale, i.desired_scale);
    handle_scale_to_zero(i, desired)
}

fn decision(want: i32, apply: bool, requeue_after: Option<SimDuration>) -> ScalerDecision {
    ScalerDecision {
        want,
        apply,
        requeue_after,
    }
}

/// `handleScaleToZero`: zero is only applied after the PA was active for a
/// stable window, went inactive, and the activator has been in the path for
/// the grace period (and the last-pod retention has passed), or when
/// activation timed out.
fn handle_scale_to_zero(i: &ScalerInput, desired: i32) -> ScalerDecision {
    if desired != 0 {
        return decision(desired, true, None);
    }
    if !i.enable_scale_to_zero {
        return decision(1, true, None);
    }
    let in_state_for = i.now.saturating_since(i.condition.since);
    match i.condition.state {
        PaState::Activating => {
            if in_state_for > i.activation_timeout {
                decision(desired, true, None)
            } else {
                decision(-1, false, Some(i.activation_timeout))
            }
        }
        PaState::Active => {
            if in_state_for >= i.stable_window {
                // Knative re-enqueues when the SKS is already in proxy mode,
                // since then no SKS change will trigger the next reconcile;
                // the activator endpoints being populated stands for that.
                let requeue = i.proxy_for.map(|_| DEACTIVATION_REQUEUE);
                decision(desired, false, requeue)
            } else {
                // Hold one pod until the PA has been active a stable window.
                decision(1, true, Some(i.stable_window - in_state_for))
            }
        }
        PaState::Inactive => {
            let retention = if i.reachable {
                i.retention
            } else {
                SimDuration::ZERO
            };
            if in_state_for >= i.grace_period.max(retention) {
                return decision(desired, true, None);
            }
            if retention > SimDuration::ZERO && in_state_for < retention {
                return decision(desired, false, Some(retention - in_state_for));
            }
            let proxy_for = i.proxy_for.unwrap_or(SimDuration::ZERO);
            if proxy_for >= i.grace_period {
                // Fast path: the activator has been in the path long enough.
                decision(desired, true, None)
            } else {
                decision(desired, false, Some(i.grace_period - proxy_for))
            }
        }
    }
}

/// `activeThreshold`: the ready pods needed to call the PA active:
/// `max(minScale, initialScale)` until the scale target is initialized,
/// then `max(minScale, 1)`; min-scale counts only for reachable revisions.
pub fn active_threshold(
    min_scale: i32,
    initial_scale: i32,
    scale_target_initialized: bool,
    reachable: bool,
) -> i32 {
    let min = if reachable { min_scale } else { 0 };
    if scale_target_initialized {
        min.max(1)
    } else {
        min.max(initial_scale)
    }
}

/// computeActiveCondition (§4.5). `min_ready` from [`active_threshold`]; the
/// transition time moves only when the state changes.
///
/// Knative also moves it when only the reason changes (Inactive "TimedOut"
/// followed by Inactive "NoTraffic"); that reason is not tracked here.
pub fn compute_active_condition(
    prev: ActiveCondition,
    now: SimTime,
    want: i32,
    ready: i32,
    min_ready: i32,
) -> ActiveCondition {
    let to = |state: PaState| {
        if prev.state == state {
            prev
        } else {
            ActiveCondition { state, since: now }
        }
    };
    if want == 0 || min_ready == 0 {
        to(PaState::Inactive)
    } else if ready < min_ready {
        if want > 0 || prev.state != PaState::Inactive {
            to(PaState::Activating)
        } else {
            to(PaState::Inactive)
        }
    } else if want > 0 || prev.state != PaState::Inactive {
        to(PaState::Active)
    } else {
        prev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(state: PaState, since: u64) -> ActiveCondition {
        ActiveCondition {
            state,
            since: SimTime::from_secs(since),
        }
    }

    #[test]
    fn bounds() {
        assert_eq!(apply_bounds(0, 0, -1), 0);
        assert_eq!(apply_bounds(2, 0, 1), 2);
        assert_eq!(apply_bounds(0, 5, 9), 5);
        assert_eq!(apply_bounds(0, 0, 900), 900);
    }

    #[test]
    fn sks_mode_rule() {
        assert_eq!(sks_mode(3, 0), SksMode::Serve);
        assert_eq!(sks_mode(3, -1), SksMode::Proxy);
        assert_eq!(sks_mode(0, 10), SksMode::Proxy);
        assert_eq!(sks_mode(-1, 10), SksMode::Proxy);
    }

    #[test]
    fn active_condition_table() {
        let now = SimTime::from_secs(100);
        let act = cond(PaState::Active, 10);
        let ina = cond(PaState::Inactive, 10);
        let acg = cond(PaState::Activating, 10);
        assert_eq!(
            compute_active_condition(act, now, 0, 1, 1),
            cond(PaState::Inactive, 100)
        );
        assert_eq!(
            compute_active_condition(ina, now, 2, 0, 1),
            cond(PaState::Activating, 100)
        );
        assert_eq!(compute_active_condition(ina, now, -1, 0, 1), ina);
        assert_eq!(
            compute_active_condition(act, now, -1, 0, 1),
            cond(PaState::Activating, 100)
        );
        assert_eq!(
            compute_active_condition(acg, now, 1, 1, 1),
            cond(PaState::Active, 100)
        );
        assert_eq!(compute_active_condition(ina, now, -1, 1, 1), ina);
        assert_eq!(
            compute_active_condition(acg, now, -1, 1, 0),
            cond(PaState::Inactive, 100)
        );
        assert_eq!(compute_active_condition(act, now, 3, 5, 1), act);
        assert_eq!(active_threshold(0, 3, false, true), 3);
        assert_eq!(active_threshold(0, 3, true, true), 1);
        assert_eq!(active_threshold(2, 1, true, false), 1);
    }
}
