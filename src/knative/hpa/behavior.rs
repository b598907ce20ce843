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
mod tests {
    //! Golden cases ported from kubernetes/kubernetes
    //! `pkg/controller/podautoscaler/horizontal_test.go` (`TestScalingWithRules`,
    //! `TestNormalizeDesiredReplicas`, `TestNormalizeDesiredReplicasWithBehavior`,
    //! `TestStoreScaleEvents`, `TestCalculateScaleDownLimitWithBehaviors...`).
    //! Upstream stamps fixture events with `time.Now()` and then calls the
    //! code under test a little later; the cases here evaluate 1 µs after the
    //! fixture instant so that events exactly one period old fall outside
    //! the period, as they do upstream.
    use super::LimitReason::*;
    use super::*;

    const T0_S: f64 = 100_000.0;

    fn fixture_now() -> SimTime {
        SimTime::from_secs_f64(T0_S)
    }

    fn eval_now() -> SimTime {
        SimTime(fixture_now().0 + 1_000)
    }

    fn ago(s: f64) -> SimTime {
        SimTime::from_secs_f64(T0_S - s)
    }

    /// `generateScalingRules(pods, podsPeriod, percent, percentPeriod, window)`.
    fn rules(pods: i32, pods_p: i32, pct: i32, pct_p: i32, window: i32) -> ScalingRules {
        let mut policies = vec![];
        if pods != 0 {
            policies.push(Policy {
                kind: PolicyType::Pods,
                value: pods,
                period_s: pods_p,
            });
        }
        if pct != 0 {
            policies.push(Policy {
                kind: PolicyType::Percent,
                value: pct,
                period_s: pct_p,
            });
        }
        ScalingRules {
            stabilization_window_s: window,
            select: SelectPolicy::Max,
            policies,
        }
    }

    /// `generateEventsUniformDistribution`: event i sits in the middle of
    /// the i-th of n equal segments of the last `period` seconds, its age
    /// truncated to whole seconds.
    fn events(raw: &[i32], period: i32) -> Vec<ScaleEvent> {
        let seg = f64::from(period) / raw.len() as f64;
        raw.iter()
            .enumerate()
            .map(|(i, &c)| {
                let age = (f64::from(period) - seg * (i as f64 + 1.0) + seg / 2.0) as i64;
                ScaleEvent {
                    change: c,
                    at: ago(age as f64),
                    outdated: false,
                }
            })
            .collect()
    }

    struct Rate {
        name: &'static str,
        up_events: Vec<ScaleEvent>,
        down_events: Vec<ScaleEvent>,
        min: i32,
        max: i32,
        up: Option<ScalingRules>,
        down: Option<ScalingRules>,
        current: i32,
        desired: i32,
        expected: i32,
        reason: LimitReason,
    }

    fn rate(name: &'static str, min: i32, max: i32, cur: i32, des: i32) -> Rate {
        Rate {
            name,
            up_events: vec![],
            down_events: vec![],
            min,
            max,
            up: None,
            down: None,
            current: cur,
            desired: des,
            expected: 0,
            reason: DesiredWithinRange,
        }
    }

    impl Rate {
        fn up(mut self, r: ScalingRules) -> Self {
            self.up = Some(r);
            self
        }
        fn down(mut self, r: ScalingRules) -> Self {
            self.down = Some(r);
            self
        }
        fn ev_up(mut self, e: Vec<ScaleEvent>) -> Self {
            self.up_events = e;
            self
        }
        fn ev_down(mut self, e: Vec<ScaleEvent>) -> Self {
            self.down_events = e;
            self
        }
        fn want(mut self, n: i32, reason: LimitReason) -> Self {
            self.expected = n;
            self.reason = reason;
            self
        }
    }

    /// `TestScalingWithRules`: `convertDesiredReplicasWithBehaviorRate` over
    /// rules completed by `GenerateHPAScale{Up,Down}Rules`.
    #[test]
    fn test_scaling_with_rules() {
        let cases = vec![
            rate("prenormalized desired replicas within range", 3, 8, 5, 7)
                .want(7, DesiredWithinRange),
            rate("prenormalized desired replicas < minReplicas", 2, 8, 3, 1)
                .want(2, TooFewReplicas),
            rate("prenormalized desired replicas within range when minReplicas is 0", 0, 10, 1, 0)
                .want(0, DesiredWithinRange),
            rate("maxReplicas is the limit because maxReplicas < scaleUpLimit", 1, 10, 20, 1000)
                .want(10, TooManyReplicas),
            rate("desired replica count is more than the maximum replica count", 100, 150, 100, 1000)
                .want(150, TooManyReplicas),
            rate("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", 1, 2000, 3, 1000)
                .up(rules(0, 0, 1, 60, 0))
                .want(4, ScaleUpLimit),
            rate("scaleUp with default behavior", 1, 1000, 10, 50).want(20, ScaleUpLimit),
            rate("scaleUp with pods policy larger than percent policy", 1, 1000, 10, 500)
                .up(rules(100, 60, 100, 60, 0))
                .want(110, ScaleUpLimit),
            rate("scaleUp with percent policy larger than pods policy", 1, 1000, 10, 500)
                .up(rules(2, 60, 100, 60, 0))
                .want(20, ScaleUpLimit),
            rate("scaleUp with spec MaxReplicas limitation with large pod policy", 1, 1000, 10, 50)
                .up(rules(100, 60, 0, 0, 0))
                .want(50, DesiredWithinRange),
            rate("scaleUp with spec MaxReplicas limitation with large percent policy", 1, 1000, 10, 50)
                .up(rules(10000, 60, 0, 0, 0))
                .want(50, DesiredWithinRange),
            rate("scaleUp with pod policy limitation", 1, 1000, 10, 50)
                .up(rules(30, 60, 0, 0, 0))
                .want(40, ScaleUpLimit),
            rate("scaleUp with percent policy limitation", 1, 1000, 10, 50)
                .up(rules(0, 0, 200, 60, 0))
                .want(30, ScaleUpLimit),
            rate("scaleDown with percent policy larger than pod policy", 1, 1000, 100, 2)
                .down(rules(20, 60, 1, 60, 300))
                .want(80, ScaleDownLimit),
            rate("scaleDown with pod policy larger than percent policy", 1, 1000, 100, 2)
                .down(rules(2, 60, 1, 60, 300))
                .want(98, ScaleDownLimit),
            rate("scaleDown with spec MinReplicas=nil limitation with large pod policy", 1, 1000, 10, 0)
                .down(rules(100, 60, 0, 0, 300))
                .want(1, TooFewReplicas),
            rate("scaleDown with spec MinReplicas limitation with large percent policy", 5, 1000, 10, 2)
                .down(rules(0, 0, 100, 60, 300))
                .want(5, TooFewReplicas),
            rate("scaleDown with pod policy limitation", 1, 1000, 10, 2)
                .down(rules(5, 60, 0, 0, 300))
                .want(5, ScaleDownLimit),
            rate("scaleDown with percent policy limitation", 1, 1000, 10, 5)
                .down(rules(0, 0, 50, 60, 300))
                .want(5, DesiredWithinRange),
            rate("scaleUp with spec MaxReplicas limitation with large pod policy and events", 1, 200, 100, 500)
                .ev_up(events(&[1, 5, 9], 120))
                .up(rules(300, 60, 0, 0, 0))
                .want(200, TooManyReplicas),
            rate("scaleUp with spec MaxReplicas limitation with large percent policy and events", 1, 200, 100, 500)
                .ev_up(events(&[1, 5, 9], 120))
                .up(rules(0, 0, 10000, 60, 0))
                .want(200, TooManyReplicas),
            rate("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events", 1, 1000, 100, 500)
                .ev_up(events(&[1, 5, 9], 120))
                .up(rules(5, 120, 0, 0, 0))
                .want(100, ScaleUpLimit),
            rate("scaleUp with pod policy and previous scale up events", 1, 1000, 100, 500)
                .ev_up(events(&[1, 5, 9], 120))
                .up(rules(150, 120, 0, 0, 0))
                .want(235, ScaleUpLimit),
            rate("scaleUp with percent policy and previous scale up events", 1, 1000, 100, 500)
                .ev_up(events(&[1, 5, 9], 120))
                .up(rules(0, 0, 200, 120, 0))
                .want(255, ScaleUpLimit),
            rate("scaleUp with percent policy and previous scale up and down events", 1, 1000, 6, 24)
                .ev_up(events(&[4], 120))
                .ev_down(events(&[2], 120))
                .up(rules(0, 0, 300, 300, 0))
                .want(16, ScaleUpLimit),
            rate("scaleDown with default policy and previous events", 1, 1000, 10, 5)
                .ev_down(events(&[1, 5, 9], 120))
                .want(5, DesiredWithinRange),
            rate("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", 1, 1000, 100, 0)
                .ev_down(events(&[1, 5, 9], 120))
                .down(rules(115, 120, 0, 0, 300))
                .want(1, TooFewReplicas),
            rate("scaleDown with spec MinReplicas limitation with large pod policy and previous events", 5, 1000, 100, 0)
                .ev_down(events(&[1, 5, 9], 120))
                .down(rules(130, 120, 0, 0, 300))
                .want(5, TooFewReplicas),
            rate("scaleDown with spec MinReplicas limitation with large percent policy and previous events", 5, 1000, 100, 2)
                .ev_down(events(&[1, 5, 9], 120))
                .down(rules(0, 0, 100, 120, 300))
                .want(5, TooFewReplicas),
            rate("scaleDown with pod policy limitation and previous events", 1, 1000, 100, 2)
                .ev_down(events(&[1, 5, 9], 120))
                .down(rules(5, 120, 0, 0, 300))
                .want(100, ScaleDownLimit),
            rate("scaleDown with percent policy limitation and previous events", 1, 1000, 100, 0)
                .ev_down(events(&[2, 4, 6], 120))
                .down(rules(0, 0, 50, 120, 300))
                .want(56, ScaleDownLimit),
            rate("scaleDown with percent policy and previous scale up and down events", 1, 1000, 10, 1)
                .ev_up(events(&[2], 120))
                .ev_down(events(&[4], 120))
                .down(rules(0, 0, 50, 180, 0))
                .want(6, ScaleDownLimit),
            rate("scaleDown with previous events preventing further scale down", 1, 1000, 100, 0)
                .ev_down(events(&[10, 10, 10], 120))
                .down(rules(0, 0, 10, 120, 300))
                .want(100, ScaleDownLimit),
            rate("scaleDown with with previous events still allowing more scale down", 1, 1000, 10, 5)
                .ev_down(events(&[10, 10, 10], 120))
                .down(rules(0, 0, 1000, 120, 300))
                .want(5, DesiredWithinRange),
            rate("check 'outdated' flag for events for one behavior for up", 1, 1000, 100, 200)
                .ev_up(events(&[8, 12, 9, 11], 120))
                .up(rules(1000, 60, 0, 0, 0))
                .want(200, DesiredWithinRange),
            rate("check that events were not marked 'outdated' for two different policies in the behavior for up", 1, 1000, 100, 200)
                .ev_up(events(&[8, 12, 9, 11], 120))
                .up(rules(1000, 120, 100, 60, 0))
                .want(200, DesiredWithinRange),
            rate("check that events were marked 'outdated' for two different policies in the behavior for up", 1, 1000, 100, 200)
                .ev_up(events(&[8, 12, 9, 11], 120))
                .up(rules(1000, 30, 100, 60, 0))
                .want(200, DesiredWithinRange),
            rate("check 'outdated' flag for events for one behavior for down", 1, 1000, 100, 5)
                .ev_down(events(&[8, 12, 9, 11], 120))
                .down(rules(1000, 60, 0, 0, 300))
                .want(5, DesiredWithinRange),
            rate("check that events were not marked 'outdated' for two different policies in the behavior for down", 1, 1000, 100, 5)
                .ev_down(events(&[8, 12, 9, 11], 120))
                .down(rules(1000, 120, 100, 60, 300))
                .want(5, DesiredWithinRange),
            rate("check that events were marked 'outdated' for two different policies in the behavior for down", 1, 1000, 100, 5)
                .ev_down(events(&[8, 12, 9, 11], 120))
                .down(rules(1000, 30, 100, 60, 300))
                .want(5, DesiredWithinRange),
        ];
        assert_eq!(cases.len(), 40);
        for c in cases {
            let behavior = Behavior {
                scale_up: c.up.clone().unwrap_or_else(ScalingRules::default_scale_up),
                scale_down: c
                    .down
                    .clone()
                    .unwrap_or_else(ScalingRules::default_scale_down),
            };
            let state = HpaState {
                recommendations: vec![],
                scale_up_events: c.up_events.clone(),
                scale_down_events: c.down_events.clone(),
            };
            let got = convert_with_behavior_rate(
                c.current,
                c.desired,
                Bounds {
                    min: c.min,
                    max: c.max,
                },
                &behavior,
                &state,
                eval_now(),
            );
            assert_eq!(got, (c.expected, c.reason), "{}", c.name);
        }
    }

    /// `TestCalculateScaleDownLimitWithBehaviors` (the Min select-policy
    /// case): Min of 2 pods and 50 % from 5 keeps 3.
    #[test]
    fn test_calculate_scale_down_limit_with_min_select_policy() {
        let mut r = rules(2, 60, 50, 60, 300);
        r.select = SelectPolicy::Min;
        assert_eq!(scale_down_limit(5, &[], &[], &r, eval_now()), 3);
        r.select = SelectPolicy::Max;
        assert_eq!(scale_down_limit(5, &[], &[], &r, eval_now()), 2);
        r.select = SelectPolicy::Disabled;
        assert_eq!(scale_down_limit(5, &[], &[], &r, eval_now()), 5);
    }

    fn recs(v: &[(i32, f64)]) -> Vec<TimedRecommendation> {
        v.iter()
            .map(|&(replicas, age)| TimedRecommendation {
                replicas,
                at: ago(age),
            })
            .collect()
    }

    /// `TestNormalizeDesiredReplicas`: legacy `stabilizeRecommendation` with
    /// a 5 min window; (recommendations, desired, stabilized, log length).
    #[test]
    fn test_normalize_desired_replicas() {
        type Row = (&'static str, Vec<(i32, f64)>, i32, i32, usize);
        let cases: Vec<Row> = vec![
            ("empty log", vec![], 5, 5, 1),
            ("stabilize", vec![(4, 120.0), (5, 60.0)], 3, 5, 3),
            ("no stabilize", vec![(1, 120.0), (2, 60.0)], 3, 3, 3),
            (
                "no stabilize - old recommendations",
                vec![(10, 600.0), (9, 540.0)],
                3,
                3,
                2,
            ),
            (
                "stabilize - old recommendations",
                vec![(10, 600.0), (4, 60.0), (5, 120.0), (9, 540.0)],
                3,
                5,
                4,
            ),
        ];
        for (name, log, desired, want, len) in cases {
            let mut log = recs(&log);
            let got = stabilize_legacy(
                desired,
                SimDuration::from_secs_f64(300.0),
                &mut log,
                eval_now(),
            );
            assert_eq!((got, log.len()), (want, len), "{name}");
        }
    }

    /// `TestNormalizeDesiredReplicasWithBehavior`:
    /// (name, log, current, desired, stabilized, stored values, up window,
    /// down window).
    #[test]
    fn test_normalize_desired_replicas_with_behavior() {
        type Row = (
            &'static str,
            Vec<(i32, f64)>,
            i32,
            i32,
            i32,
            Option<Vec<i32>>,
            i32,
            i32,
        );
        let cases: Vec<Row> = vec![
            (
                "empty recommendations for scaling down",
                vec![],
                100,
                5,
                5,
                Some(vec![5]),
                0,
                0,
            ),
            (
                "simple scale down stabilization",
                vec![(4, 120.0), (5, 60.0)],
                100,
                3,
                5,
                Some(vec![4, 5, 3]),
                0,
                180,
            ),
            (
                "simple scale up stabilization",
                vec![(4, 120.0), (5, 60.0)],
                1,
                7,
                4,
                Some(vec![4, 5, 7]),
                300,
                0,
            ),
            (
                "no scale down stabilization",
                vec![(1, 120.0), (2, 60.0)],
                100,
                3,
                3,
                Some(vec![1, 2, 3]),
                300,
                0,
            ),
            (
                "no scale up stabilization",
                vec![(4, 120.0), (5, 60.0)],
                1,
                3,
                3,
                Some(vec![4, 5, 3]),
                0,
                300,
            ),
            (
                "no scale down stabilization, reuse recommendation element",
                vec![(10, 600.0), (9, 540.0)],
                100,
                3,
                3,
                Some(vec![10, 3]),
                0,
                0,
            ),
            (
                "no scale up stabilization, reuse recommendation element",
                vec![(10, 600.0), (9, 540.0)],
                1,
                100,
                100,
                Some(vec![10, 100]),
                0,
                0,
            ),
            (
                "scale down stabilization, reuse one of obsolete recommendation element",
                vec![(10, 600.0), (4, 60.0), (5, 120.0), (9, 540.0)],
                100,
                3,
                5,
                Some(vec![10, 4, 5, 3]),
                0,
                180,
            ),
            (
                "scale up stabilization, reuse one of obsolete recommendation element",
                vec![(10, 6000.0), (6, 60.0), (5, 120.0), (9, 180.0)],
                1,
                100,
                5,
                Some(vec![100, 6, 5, 9]),
                300,
                0,
            ),
            (
                "scale up and down stabilization, do not scale up when prenormalized rec goes down",
                vec![(2, 6000.0), (3, 180.0)],
                2,
                1,
                2,
                None,
                300,
                300,
            ),
            (
                "scale up and down stabilization, do not scale down when prenormalized rec goes up",
                vec![(2, 6000.0), (1, 180.0)],
                2,
                3,
                2,
                None,
                300,
                300,
            ),
        ];
        for (name, log, current, desired, want, stored, up_w, down_w) in cases {
            let mut log = recs(&log);
            // Upstream stamps the fixture with the same instant it then
            // evaluates at, so evaluate at the fixture instant here.
            let got =
                stabilize_with_behaviors(current, desired, up_w, down_w, &mut log, fixture_now());
            assert_eq!(got, want, "{name}");
            if let Some(stored) = stored {
                let values: Vec<i32> = log.iter().map(|r| r.replicas).collect();
                assert_eq!(values, stored, "{name}");
            }
        }
    }

    /// `TestStoreScaleEvents`: (name, previous events as (change, age s),
    /// rules, change in the last 60 s before storing, stored events as
    /// (change, outdated)). Each case is run for scale-up and scale-down.
    #[test]
    fn test_store_scale_events() {
        type Row = (
            &'static str,
            Vec<(i32, f64)>,
            Option<ScalingRules>,
            i32,
            Vec<(i32, bool)>,
        );
        let cases: Vec<Row> = vec![
            (
                "empty entries with default behavior",
                vec![],
                None,
                0,
                vec![],
            ),
            (
                "empty entries with two-policy-behavior",
                vec![],
                Some(rules(10, 60, 100, 60, 0)),
                0,
                vec![(5, false)],
            ),
            (
                "one outdated entry to be kept untouched without behavior",
                vec![(7, 61.0)],
                None,
                0,
                vec![(7, false)],
            ),
            (
                "one outdated entry to be replaced with behavior",
                vec![(7, 61.0)],
                Some(rules(10, 60, 100, 60, 0)),
                0,
                vec![(5, false)],
            ),
            (
                "one actual entry to be not touched with behavior",
                vec![(7, 58.0)],
                Some(rules(10, 60, 100, 60, 0)),
                7,
                vec![(7, false), (5, false)],
            ),
            (
                "two entries, one of them to be replaced",
                vec![(7, 61.0), (6, 59.0)],
                Some(rules(10, 60, 0, 0, 0)),
                6,
                vec![(5, false), (6, false)],
            ),
            (
                "replace one entry, use policies with different periods",
                vec![(8, 29.0), (6, 59.0), (7, 61.0), (9, 61.0)],
                Some(rules(10, 60, 100, 30, 0)),
                14,
                vec![(8, false), (6, false), (7, true), (5, false)],
            ),
            (
                "two entries, both actual",
                vec![(7, 58.0), (6, 59.0)],
                Some(rules(10, 120, 100, 30, 0)),
                13,
                vec![(7, false), (6, false), (5, false)],
            ),
        ];
        for (name, prev, r, change60, stored) in cases {
            for up in [true, false] {
                let prev: Vec<ScaleEvent> = prev
                    .iter()
                    .map(|&(change, age)| ScaleEvent {
                        change,
                        at: ago(age),
                        outdated: false,
                    })
                    .collect();
                assert_eq!(change_in_period(60, &prev, eval_now()), change60, "{name}");
                let mut state = HpaState::default();
                if up {
                    state.scale_up_events = prev;
                } else {
                    state.scale_down_events = prev;
                }
                // Without behavior the controller stores nothing.
                if let Some(r) = &r {
                    let behavior = Behavior {
                        scale_up: r.clone(),
                        scale_down: r.clone(),
                    };
                    let new = if up { 15 } else { 5 };
                    store_scale_event(&behavior, &mut state, 10, new, eval_now());
                }
                let list = if up {
                    &state.scale_up_events
                } else {
                    &state.scale_down_events
                };
                let got: Vec<(i32, bool)> = list.iter().map(|e| (e.change, e.outdated)).collect();
                assert_eq!(got, stored, "{name} (up: {up})");
            }
        }
    }

    /// Legacy `convertDesiredReplicasWithRules` (spec §7): ×2 per tick, at
    /// least to 4, within min/max.
    #[test]
    fn legacy_scale_up_limit_doubles_with_a_floor_of_four() {
        let b = Bounds { min: 1, max: 100 };
        assert_eq!(convert_with_rules(1, 50, b), (4, ScaleUpLimit));
        assert_eq!(convert_with_rules(10, 50, b), (20, ScaleUpLimit));
        assert_eq!(convert_with_rules(60, 500, b), (100, TooManyReplicas));
        assert_eq!(convert_with_rules(10, 0, b), (1, TooFewReplicas));
        assert_eq!(convert_with_rules(10, 7, b), (7, DesiredWithinRange));
    }

    /// The default behavior holds a scale-down for 300 s at the highest
    /// recent recommendation, then drops in one step (100 % per 15 s).
    #[test]
    fn default_behavior_holds_scale_down_for_five_minutes() {
        let behavior = Behavior::default();
        let b = Bounds { min: 1, max: 100 };
        let mut state = HpaState::default();
        let mut current = 10;
        let mut seen = vec![];
        for tick in 0..=22 {
            let now = SimTime::from_secs_f64(1000.0 + 15.0 * f64::from(tick));
            let desired = if tick == 0 { 10 } else { 2 };
            let (n, _) = normalize_with_behaviors(current, desired, b, &behavior, &mut state, now);
            if n != current {
                store_scale_event(&behavior, &mut state, current, n, now);
                current = n;
            }
            seen.push(current);
        }
        // The 10 recorded at t=1000 counts while strictly younger than
        // 300 s: still at tick 19 (t=1285), gone at tick 20 (t=1300).
        assert_eq!(seen[19], 10);
        assert_eq!(seen[20], 2);
    }
}
