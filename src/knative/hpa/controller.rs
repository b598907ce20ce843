//! One reconcile of one HPA: a port of kubernetes/kubernetes
//! `pkg/controller/podautoscaler/horizontal.go` (`reconcileAutoscaler`,
//! `computeReplicasForMetrics` for Knative's single metric), built on
//! [`super::replica_calc`] and [`super::behavior`].

use super::behavior::{
    normalize_legacy, normalize_with_behaviors, store_scale_event, Bounds, HpaState,
    TimedRecommendation,
};
use super::mapping::HpaSpec;
use super::replica_calc::CalcError;
use crate::sim::{SimDuration, SimTime};

/// `--horizontal-pod-autoscaler-sync-period` default: one reconcile per HPA
/// every 15 s.
pub const DEFAULT_SYNC_PERIOD_S: f64 = 15.0;

/// The kube-controller-manager's HPA flags (`config/v1alpha1/defaults.go`)
/// and metrics-server's resolution, as a scenario's `[hpa]` table sets them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ControllerSettings {
    /// `--horizontal-pod-autoscaler-sync-period` (15 s).
    pub sync_period: SimDuration,
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min).
    pub cpu_initialization_period: SimDuration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub initial_readiness_delay: SimDuration,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5 min).
    pub downscale_stabilization: SimDuration,
    /// metrics-server's `--metric-resolution` (15 s in the release manifest).
    pub metric_resolution: SimDuration,
}

impl Default for ControllerSettings {
    fn default() -> Self {
        ControllerSettings {
            sync_period: SimDuration::from_secs_f64(DEFAULT_SYNC_PERIOD_S),
            tolerance: 0.1,
            cpu_initialization_period: SimDuration::from_secs(300),
            initial_readiness_delay: SimDuration::from_secs(30),
            downscale_stabilization: SimDuration::from_secs(300),
            metric_resolution: SimDuration::from_secs_f64(
                super::metrics_server::DEFAULT_RESOLUTION_S,
            ),
        }
    }
}

/// What one reconcile decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    /// Write these replicas to the scale subresource.
    Scale(i32),
    /// Leave the replicas as they are (`status.desiredReplicas` = current).
    Keep,
    /// The target is at zero and `minReplicas` is not: autoscaling is off
    /// (`ScalingDisabled`), the HPA never wakes it.
    Disabled,
    /// The metric could not be computed (`ScalingActive=False`): no
    /// recommendation is recorded and nothing scales.
    MetricError,
}

/// `reconcileAutoscaler` at `now`, given `scale.spec.replicas` and the
/// replica calculator's result for Knative's one metric. Updates the
/// recommendation history and, after a scale, the scale events.
pub fn reconcile(
    spec: &HpaSpec,
    current: i32,
    metric: Result<i32, CalcError>,
    downscale_window: SimDuration,
    state: &mut HpaState,
    now: SimTime,
) -> Tick {
    if state.recommendations.is_empty() {
        // recordInitialRecommendation.
        state.recommendations.push(TimedRecommendation {
            replicas: current,
            at: now,
        });
    }
    let desired = if current == 0 && spec.min_replicas != 0 {
        return Tick::Disabled;
    } else if current > spec.max_replicas {
        spec.max_replicas
    } else if current < spec.min_replicas {
        spec.min_replicas
    } else {
        let Ok(raw) = metric else {
            return Tick::MetricError;
        };
        let bounds = Bounds {
            min: spec.min_replicas,
            max: spec.max_replicas,
        };
        match &spec.behavior {
            Some(b) => normalize_with_behaviors(current, raw, bounds, b, state, now).0,
            None => normalize_legacy(current, raw, bounds, downscale_window, state, now).0,
        }
    };
    if desired == current {
        return Tick::Keep;
    }
    if let Some(b) = &spec.behavior {
        store_scale_event(b, state, current, desired, now);
    }
    Tick::Scale(desired)
}

#[cfg(test)]
mod tests {
    use super::super::mapping::{make_hpa, HpaMetric};
    use super::*;

    fn at(s: f64) -> SimTime {
        SimTime::from_secs_f64(s)
    }

    const W: f64 = 300.0;

    #[test]
    fn below_min_is_raised_without_consulting_metrics() {
        let spec = make_hpa(HpaMetric::Cpu, Some(50.0), 3, 0, None);
        let mut st = HpaState::default();
        let w = SimDuration::from_secs_f64(W);
        let t = reconcile(&spec, 1, Err(CalcError::NoMetrics), w, &mut st, at(15.0));
        assert_eq!(t, Tick::Scale(3));
    }

    #[test]
    fn zero_replicas_disable_scaling() {
        let spec = make_hpa(HpaMetric::Cpu, Some(50.0), 0, 0, None);
        let mut st = HpaState::default();
        let w = SimDuration::from_secs_f64(W);
        assert_eq!(
            reconcile(&spec, 0, Ok(5), w, &mut st, at(15.0)),
            Tick::Disabled
        );
    }

    #[test]
    fn metric_error_keeps_the_scale_and_records_nothing_new() {
        let spec = make_hpa(HpaMetric::Cpu, Some(50.0), 0, 0, None);
        let mut st = HpaState::default();
        let w = SimDuration::from_secs_f64(W);
        let t = reconcile(
            &spec,
            4,
            Err(CalcError::NoReadyMetrics),
            w,
            &mut st,
            at(15.0),
        );
        assert_eq!(t, Tick::MetricError);
        assert_eq!(st.recommendations.len(), 1);
    }

    /// Without a window annotation (legacy path) scale-up doubles per tick
    /// and scale-down waits for the 5 min window, never below one pod.
    #[test]
    fn legacy_path_doubles_up_and_waits_down() {
        let spec = make_hpa(HpaMetric::Cpu, Some(50.0), 0, 0, None);
        let mut st = HpaState::default();
        let w = SimDuration::from_secs_f64(W);
        let mut cur = 1;
        let mut trace = vec![];
        for k in 1..=30 {
            let raw = if k <= 4 { 20 } else { 0 };
            if let Tick::Scale(n) =
                reconcile(&spec, cur, Ok(raw), w, &mut st, at(15.0 * f64::from(k)))
            {
                cur = n;
            }
            trace.push(cur);
        }
        assert_eq!(&trace[..4], &[4, 8, 16, 20]);
        // The last 20 was recorded at t=60. The legacy window only drops a
        // record once it is older than 300 s (a record exactly 300 s old
        // still counts, unlike the behavior path).
        assert_eq!(trace[23], 20); // t=360
        assert_eq!(trace[24], 1); // t=375, and min-replicas 1 (no zero)
    }

    /// With a window annotation both directions are stabilized over it and
    /// scale events are stored.
    #[test]
    fn window_annotation_stabilizes_scale_up_too() {
        let spec = make_hpa(
            HpaMetric::Cpu,
            Some(50.0),
            0,
            0,
            Some(SimDuration::from_secs_f64(60.0)),
        );
        let mut st = HpaState::default();
        let w = SimDuration::from_secs_f64(W);
        let mut cur = 2;
        let mut trace = vec![];
        for k in 1..=8 {
            if let Tick::Scale(n) =
                reconcile(&spec, cur, Ok(6), w, &mut st, at(15.0 * f64::from(k)))
            {
                cur = n;
            }
            trace.push(cur);
        }
        // The initial recommendation (2 at t=15) holds scale-up until it is
        // 60 s old, at t=75 (tick 5).
        assert_eq!(trace, vec![2, 2, 2, 2, 6, 6, 6, 6]);
        assert_eq!(st.scale_up_events.len(), 1);
    }

    /// Closed loop at constant load: the pods share `load × cpu` cores
    /// evenly, each requesting 1 core, target 50 %. From below, the replicas
    /// settle at ceil(load × cpu / (target × request)); from above, the
    /// tolerance band stops the descent at the first count whose
    /// utilization is inside it (here 9 pods at 52 %), so the closed form is
    /// one of the stable points, not the only one. Either way utilization
    /// ends inside the band.
    #[test]
    fn constant_load_settles_at_the_closed_form() {
        use super::super::replica_calc::{
            resource_replicas, CalcConfig, Pod, PodMetric, PodPhase, ReadyCondition, Resource,
            Target,
        };
        use std::collections::BTreeMap;
        // 95 req/s × 50 ms of CPU = 4.75 cores; at 50 % of 1 core: 9.5 pods.
        let (load, cpu_s, request_m, target) = (95.0, 0.05, 1000i64, 50);
        let cores = load * cpu_s;
        let expected =
            (cores / (f64::from(target) / 100.0 * request_m as f64 / 1000.0)).ceil() as i32;
        assert_eq!(expected, 10);
        let cases = [
            (1, None, expected),
            (30, None, expected - 1),
            (1, Some(60.0), expected),
            (30, Some(60.0), expected - 1),
        ];
        for (start, window, want) in cases {
            let spec = make_hpa(
                HpaMetric::Cpu,
                Some(f64::from(target)),
                0,
                0,
                window.map(SimDuration::from_secs_f64),
            );
            let mut st = HpaState::default();
            let mut n = start;
            let mut util = 0;
            for k in 1..=80 {
                let now = at(15.0 * f64::from(k));
                let pods: Vec<Pod> = (0..n)
                    .map(|i| Pod {
                        name: format!("p{i:03}"),
                        phase: PodPhase::Running,
                        deleting: false,
                        ready: Some(ReadyCondition {
                            ready: true,
                            last_transition: SimTime(0),
                        }),
                        start_time: Some(SimTime(0)),
                        request_milli: Some(request_m),
                    })
                    .collect();
                let per_pod = (cores * 1000.0 / f64::from(n)) as i64;
                let metrics: BTreeMap<String, PodMetric> = pods
                    .iter()
                    .map(|p| {
                        let m = PodMetric {
                            value_milli: per_pod,
                            timestamp: now,
                            window: SimDuration::from_secs_f64(15.0),
                        };
                        (p.name.clone(), m)
                    })
                    .collect();
                let rec = resource_replicas(
                    n,
                    Target::Utilization(target),
                    Resource::Cpu,
                    &pods,
                    &metrics,
                    &CalcConfig::default(),
                    now,
                );
                util = rec.as_ref().map(|r| r.usage).unwrap_or(0);
                let raw = rec.map(|r| r.replicas);
                if let Tick::Scale(m) =
                    reconcile(&spec, n, raw, SimDuration::from_secs_f64(W), &mut st, now)
                {
                    n = m;
                }
            }
            assert_eq!(n, want, "start {start}, window {window:?}");
            let ratio = util as f64 / f64::from(target);
            assert!((0.9..=1.1).contains(&ratio), "utilization {util} %");
        }
    }
}
