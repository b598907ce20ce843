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
        let got = stabilize_with_behaviors(current, desired, up_w, down_w, &mut log, fixture_now());
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
