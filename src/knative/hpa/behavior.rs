//! Normalization of the raw recommendation: stabilization windows, scaling
//! policies and min/max replicas. A port of kubernetes/kubernetes
//! `pkg/controller/podautoscaler/horizontal.go` (`stabilizeRecommendation`,
//! `convertDesiredReplicasWithRules`, `stabilizeRecommendationWithBehaviors`,
//! `convertDesiredReplicasWithBehaviorRate`,
//! `calculateScaleUpLimitWithScalingRules`,
//! `calculateScaleDownLimitWithBehaviors`, `storeScaleEvent`) and of the API
//! defaults in `pkg/apis/autoscaling/v2/defaults.go`.
//!
//! All window and period tests are strict, as upstream: a record stamped
//! exactly at the cutoff is outside the window.

use crate::sim::{SimDuration, SimTime};

/// `scaleUpLimitFactor` of the legacy path.
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// `scaleUpLimitMinimum` of the legacy path.
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;
/// `--horizontal-pod-autoscaler-downscale-stabilization` default, seconds.
pub const DEFAULT_DOWNSCALE_STABILIZATION_S: i32 = 300;

/// How a policy measures change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyType {
    /// `Pods`: an absolute number of pods per period.
    Pods,
    /// `Percent`: a percentage of the replicas at the start of the period.
    Percent,
}

/// One `HPAScalingPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Pods or Percent.
    pub kind: PolicyType,
    /// Pods, or percent.
    pub value: i32,
    /// Length of the period the change is counted over, seconds.
    pub period_s: i32,
}

/// `selectPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The policy allowing the largest change wins.
    Max,
    /// The policy allowing the smallest change wins.
    Min,
    /// No change in this direction.
    Disabled,
}

/// One direction of `behavior` (`HPAScalingRules`), after API defaulting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window_s: i32,
    /// `selectPolicy`.
    pub select: SelectPolicy,
    /// `policies`.
    pub policies: Vec<Policy>,
}

impl ScalingRules {
    /// `GenerateHPAScaleUpRules(nil)`: no stabilization, Max of 4 pods and
    /// 100 % per 15 s.
    pub fn default_scale_up() -> Self {
        ScalingRules {
            stabilization_window_s: 0,
            select: SelectPolicy::Max,
            policies: vec![
                Policy {
                    kind: PolicyType::Pods,
                    value: 4,
                    period_s: 15,
                },
                Policy {
                    kind: PolicyType::Percent,
                    value: 100,
                    period_s: 15,
                },
            ],
        }
    }

    /// `GenerateHPAScaleDownRules(nil)` plus the controller's
    /// `maybeInitScaleDownStabilizationWindow` (300 s): 100 % per 15 s.
    pub fn default_scale_down() -> Self {
        ScalingRules {
            stabilization_window_s: DEFAULT_DOWNSCALE_STABILIZATION_S,
            select: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyType::Percent,
                value: 100,
                period_s: 15,
            }],
        }
    }
}

/// `HorizontalPodAutoscalerBehavior`, both directions defaulted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behavior {
    /// `scaleUp`.
    pub scale_up: ScalingRules,
    /// `scaleDown`.
    pub scale_down: ScalingRules,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }
    }
}

/// A raw recommendation kept for stabilization (`timestampedRecommendation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedRecommendation {
    /// Recommended replicas.
    pub replicas: i32,
    /// When it was made.
    pub at: SimTime,
}

/// A past scaling step (`timestampedScaleEvent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleEvent {
    /// Size of the step (positive).
    pub change: i32,
    /// When it was written.
    pub at: SimTime,
    /// Older than every policy period; its slot may be reused.
    pub outdated: bool,
}

/// Why the normalized count is what it is (the `ScalingLimited` reasons).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitReason {
    /// No limit applied.
    DesiredWithinRange,
    /// Capped by a scale-up rate limit below `maxReplicas`.
    ScaleUpLimit,
    /// Capped by `maxReplicas`.
    TooManyReplicas,
    /// Held by a scale-down rate limit above `minReplicas`.
    ScaleDownLimit,
    /// Held at `minReplicas`.
    TooFewReplicas,
}

fn ns(t: SimTime) -> i128 {
    t.0 as i128
}

fn secs(s: i32) -> i128 {
    i128::from(s) * 1_000_000_000
}

/// Per-HPA state the controller keeps in memory between ticks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HpaState {
    /// Raw recommendations (`recommendations[key]`).
    pub recommendations: Vec<TimedRecommendation>,
    /// Scale-up steps (`scaleUpEvents[key]`).
    pub scale_up_events: Vec<ScaleEvent>,
    /// Scale-down steps (`scaleDownEvents[key]`).
    pub scale_down_events: Vec<ScaleEvent>,
}

/// `getReplicasChangePerPeriod`: total change of events strictly inside the
/// last `period_s` seconds (outdated flags are not consulted).
pub fn change_in_period(period_s: i32, events: &[ScaleEvent], now: SimTime) -> i32 {
    let cutoff = ns(now) - secs(period_s);
    events
        .iter()
        .filter(|e| ns(e.at) > cutoff)
        .map(|e| e.change)
        .sum()
}

fn period_start(
    current: i32,
    period_s: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    now: SimTime,
) -> i32 {
    current - change_in_period(period_s, up, now) + change_in_period(period_s, down, now)
}

/// `calculateScaleUpLimitWithScalingRules`.
pub fn scale_up_limit(
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
) -> i32 {
    let (mut acc, pick): (i32, fn(i32, i32) -> i32) = match rules.select {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for p in &rules.policies {
        let start = period_start(current, p.period_s, up, down, now);
        let proposed = match p.kind {
            PolicyType::Pods => start + p.value,
            PolicyType::Percent => {
                (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32
            }
        };
        acc = pick(acc, proposed);
    }
    acc
}

/// `calculateScaleDownLimitWithBehaviors`. Percent steps truncate.
pub fn scale_down_limit(
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
) -> i32 {
    let (mut acc, pick): (i32, fn(i32, i32) -> i32) = match rules.select {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for p in &rules.policies {
        let start = period_start(current, p.period_s, up, down, now);
        let proposed = match p.kind {
            PolicyType::Pods => start - p.value,
            PolicyType::Percent => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
        };
        acc = pick(acc, proposed);
    }
    acc
}

/// The replica bounds and the two directions' rules one normalization uses
/// (`NormalizationArg`).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// `minReplicas` (API default 1).
    pub min: i32,
    /// `maxReplicas`.
    pub max: i32,
}

/// `convertDesiredReplicasWithBehaviorRate`: apply the rate limits of the
/// moving direction, and min/max only in that direction.
pub fn convert_with_behavior_rate(
    current: i32,
    desired: i32,
    bounds: Bounds,
    behavior: &Behavior,
    state: &HpaState,
    now: SimTime,
) -> (i32, LimitReason) {
    let up = &state.scale_up_events;
    let down = &state.scale_down_events;
    if desired > current {
        let limit = scale_up_limit(current, up, down, &behavior.scale_up, now).max(current);
        let (max_allowed, reason) = if limit < bounds.max {
            (limit, LimitReason::ScaleUpLimit)
        } else {
            (bounds.max, LimitReason::TooManyReplicas)
        };
        if desired > max_allowed {
            return (max_allowed, reason);
        }
    } else if desired < current {
        let limit = scale_down_limit(current, up, down, &behavior.scale_down, now).min(current);
        let (min_allowed, reason) = if limit > bounds.min {
            (limit, LimitReason::ScaleDownLimit)
        } else {
            (bounds.min, LimitReason::TooFewReplicas)
        };
        if desired < min_allowed {
            return (min_allowed, reason);
        }
    }
    (desired, LimitReason::DesiredWithinRange)
}

/// `stabilizeRecommendationWithBehaviors`: the result lies between `current`
/// and `desired`, no further up than the lowest recommendation of the
/// scale-up window and no further down than the highest of the scale-down
/// window. Records `desired`, reusing the last slot stale for both windows.
pub fn stabilize_with_behaviors(
    current: i32,
    desired: i32,
    up_window_s: i32,
    down_window_s: i32,
    recommendations: &mut Vec<TimedRecommendation>,
    now: SimTime,
) -> i32 {
    let up_cutoff = ns(now) - secs(up_window_s);
    let down_cutoff = ns(now) - secs(down_window_s);
    let mut up_rec = desired;
    let mut down_rec = desired;
    let mut old = None;
    for (i, r) in recommendations.iter().enumerate() {
        let t = ns(r.at);
        if t > up_cutoff {
            up_rec = up_rec.min(r.replicas);
        }
        if t > down_cutoff {
            down_rec = down_rec.max(r.replicas);
        }
        if t < up_cutoff && t < down_cutoff {
            old = Some(i);
        }
    }
    let mut s = current;
    if s < up_rec {
        s = up_rec;
    }
    if s > down_rec {
        s = down_rec;
    }
    record(recommendations, old, desired, now);
    s
}

fn record(recs: &mut Vec<TimedRecommendation>, slot: Option<usize>, replicas: i32, now: SimTime) {
    let r = TimedRecommendation { replicas, at: now };
    match slot {
        Some(i) => recs[i] = r,
        None => recs.push(r),
    }
}

/// `stabilizeRecommendation` (legacy path, no `behavior`): the highest
/// recommendation of the last `window`, which only delays scale-down.
pub fn stabilize_legacy(
    desired: i32,
    window: SimDuration,
    recommendations: &mut Vec<TimedRecommendation>,
    now: SimTime,
) -> i32 {
    let cutoff = ns(now) - window.0 as i128;
    let mut best = desired;
    let mut old = None;
    for (i, r) in recommendations.iter().enumerate() {
        if ns(r.at) < cutoff {
            old = Some(i);
        } else if r.replicas > best {
            best = r.replicas;
        }
    }
    record(recommendations, old, desired, now);
    best
}

/// `convertDesiredReplicasWithRules` (legacy path): at most ×2 (at least 4)
/// per tick, within min/max.
pub fn convert_with_rules(current: i32, desired: i32, bounds: Bounds) -> (i32, LimitReason) {
    let scale_up_limit =
        (SCALE_UP_LIMIT_FACTOR * f64::from(current)).max(SCALE_UP_LIMIT_MINIMUM) as i32;
    let (max_allowed, reason) = if bounds.max > scale_up_limit {
        (scale_up_limit, LimitReason::ScaleUpLimit)
    } else {
        (bounds.max, LimitReason::TooManyReplicas)
    };
    if desired < bounds.min {
        return (bounds.min, LimitReason::TooFewReplicas);
    }
    if desired > max_allowed {
        return (max_allowed, reason);
    }
    (desired, LimitReason::DesiredWithinRange)
}

/// `storeScaleEvent` after a successful scale write (only when `behavior`
/// is set): marks events older than the longest policy period of that
/// direction outdated and reuses the last outdated slot.
pub fn store_scale_event(
    behavior: &Behavior,
    state: &mut HpaState,
    prev: i32,
    new: i32,
    now: SimTime,
) {
    let (list, rules, change) = if new > prev {
        (&mut state.scale_up_events, &behavior.scale_up, new - prev)
    } else {
        (
            &mut state.scale_down_events,
            &behavior.scale_down,
            prev - new,
        )
    };
    store_event(list, rules, change, now);
}

fn store_event(list: &mut Vec<ScaleEvent>, rules: &ScalingRules, change: i32, now: SimTime) {
    let longest = rules.policies.iter().map(|p| p.period_s).max().unwrap_or(0);
    let cutoff = ns(now) - secs(longest);
    for e in list.iter_mut() {
        if ns(e.at) < cutoff {
            e.outdated = true;
        }
    }
    let ev = ScaleEvent {
        change,
        at: now,
        outdated: false,
    };
    match list.iter().rposition(|e| e.outdated) {
        Some(i) => list[i] = ev,
        None => list.push(ev),
    }
}

/// `normalizeDesiredReplicasWithBehaviors`: stabilization, then rate limits.
pub fn normalize_with_behaviors(
    current: i32,
    desired: i32,
    bounds: Bounds,
    behavior: &Behavior,
    state: &mut HpaState,
    now: SimTime,
) -> (i32, LimitReason) {
    let s = stabilize_with_behaviors(
        current,
        desired,
        behavior.scale_up.stabilization_window_s,
        behavior.scale_down.stabilization_window_s,
        &mut state.recommendations,
        now,
    );
    convert_with_behavior_rate(current, s, bounds, behavior, state, now)
}

/// `normalizeDesiredReplicas` (legacy path): scale-down stabilization over
/// `window`, then the ×2 rule and min/max.
pub fn normalize_legacy(
    current: i32,
    desired: i32,
    bounds: Bounds,
    window: SimDuration,
    state: &mut HpaState,
    now: SimTime,
) -> (i32, LimitReason) {
    let s = stabilize_legacy(desired, window, &mut state.recommendations, now);
    convert_with_rules(current, s, bounds)
}

#[cfg(test)]
mod tests;
