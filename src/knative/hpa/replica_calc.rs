//! The HPA replica calculation: a port of kubernetes/kubernetes
//! `pkg/controller/podautoscaler/replica_calculator.go` (`GetResourceReplicas`,
//! `GetRawResourceReplicas` → `calcPlainMetricReplicas`, `groupPods`,
//! `calculatePodRequests`) and of the ratio helpers in
//! `pkg/controller/podautoscaler/metrics/utilization.go`.
//!
//! Quantities are integer milli-units (millicores, milli-bytes), as the
//! controller computes them; only the ratio is a float.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use crate::sim::{SimDuration, SimTime};

/// Why the controller cannot compute a recommendation this tick (it then
/// leaves the scale alone).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalcError {
    /// The metrics API returned nothing for the selector.
    #[error("no metrics returned from resource metrics API")]
    NoMetrics,
    /// The selector matched no pod.
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    /// A pod lacks a request for the resource, so utilization is undefined.
    #[error("missing request for {resource} in pod {pod}")]
    MissingRequest {
        /// The pod without a request.
        pod: String,
        /// `cpu` or `memory`.
        resource: &'static str,
    },
    /// Every pod with a metric was ignored or unready.
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoReadyMetrics,
    /// No metric belongs to a known pod (or their requests sum to zero).
    #[error("no metrics returned matched known pods")]
    NoMatchingMetrics,
}

/// The resource a metric measures. Readiness and CPU initialization only
/// apply to CPU (`groupPods`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// `cpu`, in millicores.
    Cpu,
    /// `memory`, in milli-bytes.
    Memory,
}

impl Resource {
    fn name(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }
}

/// A pod's phase (`v1.PodPhase`), as far as the calculator distinguishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    /// Not yet running: always unready.
    Pending,
    /// Running.
    Running,
    /// Terminated successfully (still counted, like upstream).
    Succeeded,
    /// Failed: ignored.
    Failed,
}

/// The Ready condition of a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyCondition {
    /// `status == True`.
    pub ready: bool,
    /// `lastTransitionTime`.
    pub last_transition: SimTime,
}

/// What the calculator reads from one pod object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    /// Pod name (the key joining pods, metrics and requests).
    pub name: String,
    /// Phase.
    pub phase: PodPhase,
    /// `deletionTimestamp != nil`.
    pub deleting: bool,
    /// The Ready condition, if the pod has one.
    pub ready: Option<ReadyCondition>,
    /// `status.startTime`, if set.
    pub start_time: Option<SimTime>,
    /// Sum of the container requests for the resource (milli-units); `None`
    /// when some container has no request.
    pub request_milli: Option<i64>,
}

/// One pod's sample as metrics-server reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetric {
    /// Usage summed over containers, milli-units.
    pub value_milli: i64,
    /// End of the sample window.
    pub timestamp: SimTime,
    /// Length of the sample window.
    pub window: SimDuration,
}

/// Scale-down and scale-up tolerances (`Tolerances`, k8s ≥ 1.33): a ratio
/// `r` is within when `1 − down ≤ r ≤ 1 + up`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    /// Scale-down side.
    pub down: f64,
    /// Scale-up side.
    pub up: f64,
}

impl Tolerances {
    /// Both sides equal to `tol` (the `--horizontal-pod-autoscaler-tolerance`
    /// flag, 0.1).
    pub fn symmetric(tol: f64) -> Self {
        Tolerances { down: tol, up: tol }
    }

    /// `isWithin`.
    pub fn is_within(&self, ratio: f64) -> bool {
        (1.0 - self.down) <= ratio && ratio <= (1.0 + self.up)
    }
}

/// Controller settings the calculation reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CalcConfig {
    /// Tolerances around ratio 1.
    pub tolerances: Tolerances,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min).
    pub cpu_initialization_period: SimDuration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub initial_readiness_delay: SimDuration,
}

impl Default for CalcConfig {
    /// The kube-controller-manager defaults (`config/v1alpha1/defaults.go`).
    fn default() -> Self {
        CalcConfig {
            tolerances: Tolerances::symmetric(0.1),
            cpu_initialization_period: SimDuration::from_secs_f64(300.0),
            initial_readiness_delay: SimDuration::from_secs_f64(30.0),
        }
    }
}

/// A recommendation and the usage it was computed from (first pass only,
/// as upstream reports it in status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recommendation {
    /// Desired replicas.
    pub replicas: i32,
    /// Utilization percent (CPU/Utilization) or average usage in
    /// milli-units (AverageValue).
    pub usage: i64,
    /// Average raw usage per pod in milli-units (Utilization only; 0 else).
    pub raw_average: i64,
}

fn ns(t: SimTime) -> i128 {
    t.0 as i128
}

fn dns(d: SimDuration) -> i128 {
    d.0 as i128
}

/// `groupPods`: ready pod count, unready (ignored for the ratio) and missing
/// pod names. Deleted and failed pods are dropped entirely.
struct Groups {
    ready: usize,
    unready: BTreeSet<String>,
    missing: BTreeSet<String>,
    ignored: BTreeSet<String>,
}

fn group_pods(
    pods: &[Pod],
    metrics: &BTreeMap<String, PodMetric>,
    resource: Resource,
    cfg: &CalcConfig,
    now: SimTime,
) -> Groups {
    let mut g = Groups {
        ready: 0,
        unready: BTreeSet::new(),
        missing: BTreeSet::new(),
        ignored: BTreeSet::new(),
    };
    for pod in pods {
        if pod.deleting || pod.phase == PodPhase::Failed {
            g.ignored.insert(pod.name.clone());
            continue;
        }
        if pod.phase == PodPhase::Pending {
            g.unready.insert(pod.name.clone());
            continue;
        }
        let Some(metric) = metrics.get(&pod.name) else {
            g.missing.insert(pod.name.clone());
            continue;
        };
        if resource == Resource::Cpu {
            let unready = match (pod.ready, pod.start_time) {
                (Some(cond), Some(start)) => {
                    if ns(start) + dns(cfg.cpu_initialization_period) > ns(now) {
                        // Still initializing: count the pod only when its
                        // sample was taken wholly after it turned Ready,
                        // since start-up CPU would inflate the ratio.
                        !cond.ready
                            || ns(metric.timestamp) < ns(cond.last_transition) + dns(metric.window)
                    } else {
                        // Afterwards a not-Ready pod still counts unless it
                        // has never been Ready.
                        !cond.ready
                            && ns(start) + dns(cfg.initial_readiness_delay)
                                > ns(cond.last_transition)
                    }
                }
                _ => true,
            };
            if unready {
                g.unready.insert(pod.name.clone());
                continue;
            }
        }
        g.ready += 1;
    }
    g
}

/// `GetResourceUtilizationRatio`: ratio of summed usage to summed requests,
/// with the utilization percent truncated to an integer first.
fn utilization_ratio(
    metrics: &BTreeMap<String, i64>,
    requests: &BTreeMap<String, i64>,
    target_percent: i32,
) -> Result<(f64, i64, i64), CalcError> {
    let mut total = 0i64;
    let mut req_total = 0i64;
    let mut n = 0i64;
    for (pod, v) in metrics {
        if let Some(r) = requests.get(pod) {
            total += v;
            req_total += r;
            n += 1;
        }
    }
    if req_total == 0 {
        return Err(CalcError::NoMatchingMetrics);
    }
    let util = total * 100 / req_total;
    Ok((util as f64 / target_percent as f64, util, total / n))
}

/// `GetMetricUsageRatio`: mean usage over the target, mean truncated.
fn plain_ratio(metrics: &BTreeMap<String, i64>, target_milli: i64) -> (f64, i64) {
    let total: i64 = metrics.values().sum();
    let avg = total / metrics.len() as i64;
    (avg as f64 / target_milli as f64, avg)
}

/// The metric target, as the HPA spec states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `type: Utilization`, `averageUtilization` percent of the request.
    Utilization(i32),
    /// `type: AverageValue`, milli-units per pod.
    AverageValue(i64),
}

/// Desired replicas for one resource metric (`GetResourceReplicas` for a
/// Utilization target, `GetRawResourceReplicas` for an AverageValue one) at
/// `now`, given the pods the selector matches and the samples metrics-server
/// returned.
pub fn resource_replicas(
    current_replicas: i32,
    target: Target,
    resource: Resource,
    pods: &[Pod],
    metrics: &BTreeMap<String, PodMetric>,
    cfg: &CalcConfig,
    now: SimTime,
) -> Result<Recommendation, CalcError> {
    if metrics.is_empty() {
        return Err(CalcError::NoMetrics);
    }
    if pods.is_empty() {
        return Err(CalcError::NoPods);
    }
    let groups = group_pods(pods, metrics, resource, cfg, now);
    let mut values: BTreeMap<String, i64> = metrics
        .iter()
        .filter(|(p, _)| !groups.unready.contains(*p) && !groups.ignored.contains(*p))
        .map(|(p, m)| (p.clone(), m.value_milli))
        .collect();
    let requests = match target {
        Target::Utilization(_) => {
            let mut req = BTreeMap::new();
            for pod in pods {
                let Some(r) = pod.request_milli else {
                    return Err(CalcError::MissingRequest {
                        pod: pod.name.clone(),
                        resource: resource.name(),
                    });
                };
                req.insert(pod.name.clone(), r);
            }
            req
        }
        Target::AverageValue(_) => BTreeMap::new(),
    };
    if values.is_empty() {
        return Err(CalcError::NoReadyMetrics);
    }
    let ratio = |v: &BTreeMap<String, i64>| -> Result<(f64, i64, i64), CalcError> {
        match target {
            Target::Utilization(t) => utilization_ratio(v, &requests, t),
            Target::AverageValue(t) => {
                let (r, avg) = plain_ratio(v, t);
                Ok((r, avg, 0))
            }
        }
    };
    let (r, usage, raw_average) = ratio(&values)?;
    let keep = Recommendation {
        replicas: current_replicas,
        usage,
        raw_average,
    };
    let scale_up_with_unready = !groups.unready.is_empty() && r > 1.0;
    if !scale_up_with_unready && groups.missing.is_empty() {
        if cfg.tolerances.is_within(r) {
            return Ok(keep);
        }
        return Ok(Recommendation {
            replicas: (r * groups.ready as f64).ceil() as i32,
            ..keep
        });
    }
    if !groups.missing.is_empty() {
        for pod in &groups.missing {
            // Scale-down: assume a missing pod is busy (at least its
            // request, or the target when that is higher), so the
            // controller does not shrink on absent data; scale-up: idle.
            let v = if r < 1.0 {
                match target {
                    Target::Utilization(t) => requests[pod] * i64::from(t.max(100)) / 100,
                    Target::AverageValue(t) => t,
                }
            } else if r > 1.0 {
                0
            } else {
                continue;
            };
            values.insert(pod.clone(), v);
        }
    }
    if scale_up_with_unready {
        for pod in &groups.unready {
            values.insert(pod.clone(), 0);
        }
    }
    let (r2, _, _) = ratio(&values)?;
    if cfg.tolerances.is_within(r2) || (r < 1.0 && r2 > 1.0) || (r > 1.0 && r2 < 1.0) {
        return Ok(keep);
    }
    let new = (r2 * values.len() as f64).ceil() as i32;
    if (r2 < 1.0 && new > current_replicas) || (r2 > 1.0 && new < current_replicas) {
        return Ok(keep);
    }
    Ok(Recommendation {
        replicas: new,
        ..keep
    })
}

#[cfg(test)]
mod tests {
    //! Golden cases ported from kubernetes/kubernetes
    //! `pkg/controller/podautoscaler/replica_calculator_test.go`; each names
    //! the upstream test. The upstream fixture gives every pod two
    //! containers with the same request and usage, a Ready condition whose
    //! transition time is the zero time, and samples stamped at the zero
    //! time with a one-minute window; "hot" pods start now, "cool" pods three
    //! minutes ago, others at the zero time. Its calculator runs with
    //! tolerance 0.1, a 2 min CPU initialization period and a 10 s readiness
    //! delay.
    use super::*;

    const NOW_S: f64 = 1_000_000.0;
    const CONTAINERS: i64 = 2;

    #[derive(Clone, Copy)]
    enum Start {
        Zero,
        Hot,
        Cool,
    }

    struct Case {
        current: i32,
        readiness: Vec<bool>,
        start: Vec<Start>,
        phase: Vec<PodPhase>,
        deleting: Vec<bool>,
        requests: Vec<i64>,
        levels: Vec<i64>,
        target: i32,
    }

    impl Case {
        fn cpu(current: i32, requests: &[i64], levels: &[i64], target: i32) -> Case {
            Case {
                current,
                readiness: vec![],
                start: vec![],
                phase: vec![],
                deleting: vec![],
                requests: requests.to_vec(),
                levels: levels.to_vec(),
                target,
            }
        }

        fn run(&self) -> Result<Recommendation, CalcError> {
            let now = SimTime::from_secs_f64(NOW_S);
            let n = (self.current as usize).max(self.phase.len());
            let pods: Vec<Pod> = (0..n)
                .map(|i| {
                    let start = match self.start.get(i).copied().unwrap_or(Start::Zero) {
                        Start::Zero => SimTime(0),
                        Start::Hot => now,
                        Start::Cool => SimTime::from_secs_f64(NOW_S - 180.0),
                    };
                    Pod {
                        name: format!("test-pod-{i}"),
                        phase: self.phase.get(i).copied().unwrap_or(PodPhase::Running),
                        deleting: self.deleting.get(i).copied().unwrap_or(false),
                        ready: Some(ReadyCondition {
                            ready: self.readiness.get(i).copied().unwrap_or(true),
                            last_transition: SimTime(0),
                        }),
                        start_time: Some(start),
                        request_milli: self.requests.get(i).map(|r| r * CONTAINERS),
                    }
                })
                .collect();
            let metrics = self
                .levels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    (
                        format!("test-pod-{i}"),
                        PodMetric {
                            value_milli: l * CONTAINERS,
                            timestamp: SimTime(0),
                            window: SimDuration::from_secs_f64(60.0),
                        },
                    )
                })
                .collect();
            let cfg = CalcConfig {
                tolerances: Tolerances::symmetric(0.1),
                cpu_initialization_period: SimDuration::from_secs_f64(120.0),
                initial_readiness_delay: SimDuration::from_secs_f64(10.0),
            };
            resource_replicas(
                self.current,
                Target::Utilization(self.target),
                Resource::Cpu,
                &pods,
                &metrics,
                &cfg,
                now,
            )
        }

        fn expect(&self, replicas: i32, utilization: i64, raw: i64) {
            let got = self.run().expect("recommendation");
            assert_eq!(
                (got.replicas, got.usage, got.raw_average),
                (replicas, utilization, raw)
            );
        }
    }

    const ONE: i64 = 1000;

    #[test]
    fn test_replica_calc_scale_up() {
        Case::cpu(3, &[ONE; 3], &[300, 500, 700], 30).expect(5, 50, 2 * 500);
    }

    #[test]
    fn test_replica_calc_scale_up_unready_less_scale() {
        let mut c = Case::cpu(3, &[ONE; 3], &[300, 500, 700], 30);
        c.readiness = vec![false, true, true];
        c.expect(4, 60, 2 * 600);
    }

    #[test]
    fn test_replica_calc_scale_up_hot_cpu_less_scale() {
        let mut c = Case::cpu(3, &[ONE; 3], &[300, 500, 700], 30);
        c.start = vec![Start::Hot, Start::Cool, Start::Cool];
        c.expect(4, 60, 2 * 600);
    }

    #[test]
    fn test_replica_calc_scale_up_unready_no_scale() {
        let mut c = Case::cpu(3, &[ONE; 3], &[400, 500, 700], 30);
        c.readiness = vec![true, false, false];
        c.expect(3, 40, 2 * 400);
    }

    #[test]
    fn test_replica_calc_scale_hot_cpu_no_scale() {
        let mut c = Case::cpu(3, &[ONE; 3], &[400, 500, 700], 30);
        c.readiness = vec![true, false, false];
        c.start = vec![Start::Cool, Start::Hot, Start::Hot];
        c.expect(3, 40, 2 * 400);
    }

    #[test]
    fn test_replica_calc_scale_up_ignores_failed_pods() {
        let mut c = Case::cpu(2, &[ONE; 4], &[500, 700], 30);
        c.readiness = vec![true, true, false, false];
        c.phase = vec![
            PodPhase::Running,
            PodPhase::Running,
            PodPhase::Failed,
            PodPhase::Failed,
        ];
        c.expect(4, 60, 2 * 600);
    }

    #[test]
    fn test_replica_calc_scale_up_ignores_deletion_pods() {
        let mut c = Case::cpu(2, &[ONE; 4], &[500, 700], 30);
        c.readiness = vec![true, true, false, false];
        c.phase = vec![PodPhase::Running; 4];
        c.deleting = vec![false, false, true, true];
        c.expect(4, 60, 2 * 600);
    }

    #[test]
    fn test_replica_calc_scale_down() {
        Case::cpu(5, &[ONE; 5], &[100, 300, 500, 250, 250], 50).expect(3, 28, 2 * 280);
    }

    #[test]
    fn test_replica_calc_scale_down_include_unready_pods() {
        let mut c = Case::cpu(5, &[ONE; 5], &[100, 300, 500, 250, 250], 50);
        c.readiness = vec![true, true, true, false, false];
        c.expect(2, 30, 2 * 300);
    }

    #[test]
    fn test_replica_calc_scale_down_exclude_unscheduled_pods() {
        let mut c = Case::cpu(5, &[ONE; 5], &[100], 50);
        c.readiness = vec![true, false, false, false, false];
        c.phase = vec![
            PodPhase::Running,
            PodPhase::Pending,
            PodPhase::Pending,
            PodPhase::Pending,
            PodPhase::Pending,
        ];
        c.expect(1, 10, 2 * 100);
    }

    #[test]
    fn test_replica_calc_scale_down_ignore_hot_cpu_pods() {
        let mut c = Case::cpu(5, &[ONE; 5], &[100, 300, 500, 250, 250], 50);
        c.start = vec![
            Start::Cool,
            Start::Cool,
            Start::Cool,
            Start::Hot,
            Start::Hot,
        ];
        c.expect(2, 30, 2 * 300);
    }

    #[test]
    fn test_replica_calc_scale_down_ignores_failed_pods() {
        let mut c = Case::cpu(5, &[ONE; 7], &[100, 300, 500, 250, 250], 50);
        c.readiness = vec![true, true, true, true, true, false, false];
        c.phase = vec![
            PodPhase::Running,
            PodPhase::Running,
            PodPhase::Running,
            PodPhase::Running,
            PodPhase::Running,
            PodPhase::Failed,
            PodPhase::Failed,
        ];
        c.expect(3, 28, 2 * 280);
    }

    #[test]
    fn test_replica_calc_scale_down_ignores_deletion_pods() {
        let mut c = Case::cpu(5, &[ONE; 7], &[100, 300, 500, 250, 250], 50);
        c.readiness = vec![true, true, true, true, true, false, false];
        c.phase = vec![PodPhase::Running; 7];
        c.deleting = vec![false, false, false, false, false, true, true];
        c.expect(3, 28, 2 * 280);
    }

    #[test]
    fn test_replica_calc_tolerance() {
        Case::cpu(3, &[900, 1000, 1100], &[1010, 1030, 1020], 100).expect(3, 102, 2 * 1020);
    }

    #[test]
    fn test_replica_calc_superfluous_metrics() {
        Case::cpu(4, &[ONE; 4], &[4000, 9500, 3000, 7000, 3200, 2000], 100).expect(
            24,
            587,
            2 * 5875,
        );
    }

    #[test]
    fn test_replica_calc_missing_metrics() {
        Case::cpu(4, &[ONE; 4], &[400, 95], 100).expect(3, 24, 495);
    }

    #[test]
    fn test_replica_calc_empty_metrics() {
        let c = Case::cpu(4, &[ONE; 3], &[], 100);
        assert_eq!(c.run(), Err(CalcError::NoMetrics));
    }

    #[test]
    fn test_replica_calc_empty_cpu_request() {
        let c = Case::cpu(1, &[], &[200], 100);
        let e = c.run().unwrap_err();
        assert!(e.to_string().contains("missing request for"), "{e}");
    }

    #[test]
    fn test_replica_calc_disjoint_resources_metrics() {
        let now = SimTime::from_secs_f64(NOW_S);
        let pods = vec![Pod {
            name: "test-pod-0".into(),
            phase: PodPhase::Running,
            deleting: false,
            ready: Some(ReadyCondition {
                ready: true,
                last_transition: SimTime(0),
            }),
            start_time: Some(SimTime(0)),
            request_milli: Some(2000),
        }];
        let metrics = BTreeMap::from([(
            "an-older-pod-name".to_string(),
            PodMetric {
                value_milli: 200,
                timestamp: SimTime(0),
                window: SimDuration::from_secs_f64(60.0),
            },
        )]);
        let got = resource_replicas(
            1,
            Target::Utilization(100),
            Resource::Cpu,
            &pods,
            &metrics,
            &CalcConfig::default(),
            now,
        );
        assert_eq!(got, Err(CalcError::NoMatchingMetrics));
    }

    #[test]
    fn test_replica_calc_missing_metrics_no_change_eq() {
        Case::cpu(2, &[ONE; 2], &[1000], 100).expect(2, 100, 2 * 1000);
    }

    #[test]
    fn test_replica_calc_missing_metrics_no_change_gt() {
        Case::cpu(2, &[ONE; 2], &[1900], 100).expect(2, 190, 2 * 1900);
    }

    #[test]
    fn test_replica_calc_missing_metrics_no_change_lt() {
        Case::cpu(2, &[ONE; 2], &[600], 100).expect(2, 60, 2 * 600);
    }

    #[test]
    fn test_replica_calc_missing_metrics_unready_change() {
        let mut c = Case::cpu(3, &[ONE; 3], &[100, 450], 50);
        c.readiness = vec![false, true, true];
        c.expect(3, 45, 2 * 450);
    }

    #[test]
    fn test_replica_calc_missing_metrics_hot_cpu_no_change() {
        let mut c = Case::cpu(3, &[ONE; 3], &[100, 450], 50);
        c.start = vec![Start::Hot, Start::Cool, Start::Cool];
        c.expect(3, 45, 2 * 450);
    }

    #[test]
    fn test_replica_calc_missing_metrics_unready_scale_up() {
        let mut c = Case::cpu(3, &[ONE; 3], &[100, 2000], 50);
        c.readiness = vec![false, true, true];
        c.expect(4, 200, 2 * 2000);
    }

    #[test]
    fn test_replica_calc_missing_metrics_hot_cpu_scale_up() {
        let mut c = Case::cpu(3, &[ONE; 3], &[100, 2000], 50);
        c.readiness = vec![false, true, true];
        c.start = vec![Start::Hot, Start::Cool, Start::Cool];
        c.expect(4, 200, 2 * 2000);
    }

    #[test]
    fn test_replica_calc_missing_metrics_unready_scale_down() {
        let mut c = Case::cpu(4, &[ONE; 4], &[100, 100, 100], 50);
        c.readiness = vec![false, true, true, true];
        c.expect(3, 10, 2 * 100);
    }

    #[test]
    fn test_replica_calc_during_rolling_update_with_max_surge() {
        let mut c = Case::cpu(2, &[ONE; 3], &[100, 100], 50);
        c.phase = vec![PodPhase::Running; 3];
        c.expect(2, 10, 2 * 100);
    }

    /// `TestReplicaCalcComputedToleranceAlgImplementation`: ten pods at
    /// 150 m of ~300 m requested; a target just past the tolerance scales
    /// down, one just inside does not.
    #[test]
    fn test_replica_calc_computed_tolerance_alg_implementation() {
        let start_pods = 10;
        let used_total: i64 = 10 * 150;
        let requested_total = 2 * used_total;
        let per_pod = requested_total / 10;
        let requests: Vec<i64> = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0]
            .iter()
            .map(|d| per_pod + d)
            .collect();
        let levels = vec![used_total / 10; 10];
        let requested_to_used = (requested_total / used_total) as f64;
        let target = (1.0 / (requested_to_used * (1.0 - 0.1))).abs() + 0.01;
        let used_ratio = used_total as f64 / (requested_total as f64 * target);
        let final_pods = (used_ratio * start_pods as f64).ceil() as i32;
        let util = used_total * 100 / requested_total;
        let c = Case::cpu(start_pods, &requests, &levels, (target * 100.0) as i32);
        c.expect(final_pods, util, 2 * used_total / 10);
        assert!(final_pods < start_pods);
        let target = (1.0 / (requested_to_used * (1.0 - 0.1))).abs() + 0.004;
        let c = Case::cpu(start_pods, &requests, &levels, (target * 100.0) as i32);
        c.expect(start_pods, util, 2 * used_total / 10);
    }
}
