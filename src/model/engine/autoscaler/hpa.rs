//! An HPA-class revision (`hpa.autoscaling.knative.dev`): the Kubernetes
//! HorizontalPodAutoscaler that Knative creates for it, the metrics-server
//! view it reads, and what Knative's HPA reconciler does around it.
//!
//! The arithmetic is [`crate::knative::hpa`]'s (ports of
//! kubernetes/kubernetes `pkg/controller/podautoscaler/`). This file holds
//! the controller's state between its 15 s syncs and plays Knative's part,
//! from knative/serving `pkg/reconciler/autoscaling/hpa/hpa.go`: the HPA
//! object comes from `MakeHPA` (min-scale 0 becomes minReplicas 1, so the
//! class never scales to zero); the SKS is always asked for Serve mode with
//! NumActivators 0 (all activators), and the SKS reconciler
//! (`serverlessservice.go`) still puts the activator in the path while the
//! revision has no ready endpoint; the PodAutoscaler is always Active and
//! reports the HPA's desired replicas. There is no panic mode, no
//! target-burst-capacity and no decider: only the HPA controller writes the
//! Deployment's replicas after Knative created it at initial-scale.

use super::plan::{Plan, Settled};
use super::Autoscaler;
use crate::knative::annotations::{HpaMetric, RevisionAnnotations};
use crate::knative::collector::Stat;
use crate::knative::config::AutoscalerConfig;
use crate::knative::hpa::metrics_server::MetricsServer;
use crate::knative::hpa::{
    make_hpa, reconcile, resource_replicas, CalcConfig, ControllerSettings, HpaSpec, HpaState, Pod,
    PodPhase, ReadyCondition, Resource, Target, Tick, Tolerances,
};
use crate::knative::kpa::{RevisionScaling, SksMode};
use crate::model::engine::event::PodId;
use crate::model::engine::pods::PodView;
use crate::model::HpaSummary;
use crate::sim::{SimDuration, SimTime};

/// The metrics-server name of a pod (any stable, unique key will do).
fn pod_name(id: PodId) -> String {
    format!("pod-{:08}", id.0)
}

/// One HPA-class revision.
pub(crate) struct Hpa {
    metric: HpaMetric,
    target: Option<f64>,
    window: Option<SimDuration>,
    scaling: RevisionScaling,
    reachable: bool,
    spec: HpaSpec,
    state: HpaState,
    calc: CalcConfig,
    downscale_stabilization: SimDuration,
    metrics: MetricsServer,
    /// `status.desiredReplicas` (−1 before the first sync).
    desired: i32,
    /// Replicas the controller last wrote to the scale subresource.
    written: Option<u32>,
    mode: SksMode,
    initialized: bool,
    requeue_at: Option<SimTime>,
    syncs: u64,
    scale_ups: u64,
    scale_downs: u64,
    max_desired: i32,
}

impl Hpa {
    /// The HPA of a revision with these annotations and scaling bounds.
    pub(crate) fn new(
        ann: &RevisionAnnotations,
        scaling: &RevisionScaling,
        reachable: bool,
        flags: &ControllerSettings,
    ) -> Self {
        let metric = ann.hpa_metric.unwrap_or(HpaMetric::Cpu);
        let mut h = Hpa {
            metric,
            target: ann.target,
            window: ann.window,
            scaling: scaling.clone(),
            reachable,
            spec: make_hpa(metric, ann.target, 0, 0, ann.window),
            state: HpaState::default(),
            calc: CalcConfig {
                tolerances: Tolerances::symmetric(flags.tolerance),
                cpu_initialization_period: flags.cpu_initialization_period,
                initial_readiness_delay: flags.initial_readiness_delay,
            },
            downscale_stabilization: flags.downscale_stabilization,
            metrics: MetricsServer::default(),
            desired: -1,
            written: None,
            mode: SksMode::Proxy,
            initialized: false,
            requeue_at: None,
            syncs: 0,
            scale_ups: 0,
            scale_downs: 0,
            max_desired: 0,
        };
        h.remake();
        h
    }

    /// `MakeHPA` from the current bounds; `ScaleBounds` drops min-scale for
    /// an unreachable revision.
    fn remake(&mut self) {
        let min = if self.reachable {
            self.scaling.min_scale
        } else {
            0
        };
        self.spec = make_hpa(
            self.metric,
            self.target,
            min,
            self.scaling.max_scale,
            self.window,
        );
    }

    /// metrics-server scrapes the revision's running pods: each gives its
    /// cumulative CPU seconds and working set.
    pub(crate) fn scrape_metrics(
        &mut self,
        now: SimTime,
        pods: impl Iterator<Item = (PodId, f64, i64)>,
    ) {
        let mut seen = std::collections::BTreeSet::new();
        for (id, cpu, ws) in pods {
            let name = pod_name(id);
            self.metrics.scrape(&name, now, cpu, ws);
            seen.insert(name);
        }
        // Gone pods drop out of the metrics API.
        self.metrics.retain(|n| seen.contains(n));
    }

    /// One sync of the HPA controller (`reconcileAutoscaler`) with the
    /// Deployment at `current` replicas, its pods as the lister shows them
    /// and the pod CPU request (user container + queue-proxy). Returns the
    /// replicas to write, if they change.
    pub(crate) fn sync(
        &mut self,
        now: SimTime,
        current: u32,
        pods: &[PodView],
        request_milli: Option<i64>,
    ) -> Option<u32> {
        let current = current.min(i32::MAX as u32) as i32;
        let listed: Vec<Pod> = pods
            .iter()
            .map(|p| Pod {
                name: pod_name(p.id),
                phase: if p.pending {
                    PodPhase::Pending
                } else {
                    PodPhase::Running
                },
                deleting: p.deleting,
                ready: p.started.map(|_| ReadyCondition {
                    ready: p.ready,
                    last_transition: p.ready_since,
                }),
                start_time: p.started,
                request_milli,
            })
            .collect();
        let (resource, samples) = match self.spec.resource {
            Resource::Cpu => (Resource::Cpu, self.metrics.cpu()),
            Resource::Memory => (Resource::Memory, self.metrics.memory()),
        };
        let rec = resource_replicas(
            current,
            self.spec.target,
            resource,
            &listed,
            &samples,
            &self.calc,
            now,
        );
        let tick = reconcile(
            &self.spec,
            current,
            rec.map(|r| r.replicas),
            self.downscale_stabilization,
            &mut self.state,
            now,
        );
        self.syncs += 1;
        match tick {
            Tick::Scale(n) => {
                if n > current {
                    self.scale_ups += 1;
                } else {
                    self.scale_downs += 1;
                }
                self.max_desired = self.max_desired.max(n);
                self.desired = n;
                let n = n.max(0) as u32;
                self.written = Some(n);
                Some(n)
            }
            Tick::Keep | Tick::MetricError => {
                self.desired = current;
                self.max_desired = self.max_desired.max(current);
                None
            }
            Tick::Disabled => {
                self.desired = 0;
                None
            }
        }
    }

    /// What the HPA did, for the summary; `mean_cpu_utilization` is the
    /// caller's.
    pub(crate) fn summary(&self, mean_cpu_utilization: f64) -> HpaSummary {
        let (metric, target) = match self.spec.target {
            Target::Utilization(p) => ("cpu", f64::from(p)),
            Target::AverageValue(v) => ("memory", v as f64 / 1000.0 / f64::from(1 << 20)),
        };
        HpaSummary {
            metric: metric.to_string(),
            target,
            syncs: self.syncs,
            scale_ups: self.scale_ups,
            scale_downs: self.scale_downs,
            max_desired_replicas: self.max_desired,
            mean_cpu_utilization,
        }
    }

    /// New annotations (a timeline's `annotate`): target, metric, window.
    pub(crate) fn set_annotations(&mut self, a: &RevisionAnnotations) {
        self.metric = a.hpa_metric.unwrap_or(HpaMetric::Cpu);
        self.target = a.target;
        self.window = a.window;
        self.remake();
    }
}

impl Autoscaler for Hpa {
    fn record_activator_stat(&mut self, _now: SimTime, _stat: &Stat) -> bool {
        // The activator's stats go to the KPA's collector only.
        false
    }

    fn scrape<'a>(
        &mut self,
        _now: SimTime,
        _ready: &[PodId],
        _started: impl Fn(PodId) -> SimTime,
        _report: impl Fn(PodId) -> &'a Stat,
    ) {
    }

    fn decide(&mut self, _now: SimTime, _ready: usize) -> bool {
        false
    }

    fn plan(&self, _now: SimTime, _cfg: &AutoscalerConfig) -> Plan {
        Plan {
            want: self.desired,
            replicas: self.written,
            requeue_after: None,
        }
    }

    fn requeue(&mut self, now: SimTime, after: Option<SimDuration>) -> Option<SimTime> {
        let at = now + after?;
        self.requeue_at = Some(at);
        Some(at)
    }

    fn take_requeue(&mut self, t: SimTime) -> bool {
        if self.requeue_at != Some(t) {
            return false;
        }
        self.requeue_at = None;
        true
    }

    fn settle(
        &mut self,
        _now: SimTime,
        _plan: &Plan,
        ready: usize,
        _cfg: &AutoscalerConfig,
    ) -> Settled {
        // Serve is asked for; the SKS proxies while there is no endpoint.
        self.mode = if ready == 0 {
            SksMode::Proxy
        } else {
            SksMode::Serve
        };
        let min = if self.reachable {
            self.scaling.min_scale
        } else {
            0
        };
        let initialized = !self.initialized && ready as i32 >= min.max(self.scaling.initial_scale);
        if initialized {
            self.initialized = true;
        }
        Settled {
            activators: None,
            initialized,
            condition_changed: false,
        }
    }

    fn update_scaling(&mut self, _now: SimTime, scaling: RevisionScaling) {
        self.scaling = scaling;
        self.remake();
    }

    fn set_reachable(&mut self, reachable: bool) -> bool {
        if self.reachable == reachable {
            return false;
        }
        self.reachable = reachable;
        self.remake();
        true
    }

    fn activators(&self) -> u32 {
        // NumActivators 0: every activator (the subset is capped at the
        // cluster's count).
        u32::MAX
    }

    fn sks_mode(&self) -> SksMode {
        self.mode
    }

    fn in_panic(&self) -> bool {
        false
    }

    fn initialized(&self) -> bool {
        self.initialized
    }

    fn observed(&self) -> (f64, f64) {
        // The KPA's stable and panic concurrency do not exist here.
        (0.0, 0.0)
    }

    fn status(&self) -> (i32, i32) {
        (self.desired, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knative::config::{AutoscalerClass, DeploymentConfig};
    use crate::knative::kpa::resolve_revision_scaling;

    fn hpa(min_scale: Option<i32>) -> Hpa {
        let ann = RevisionAnnotations {
            class: Some(AutoscalerClass::Hpa),
            hpa_metric: Some(HpaMetric::Cpu),
            target: Some(50.0),
            min_scale,
            ..Default::default()
        };
        let scaling = resolve_revision_scaling(
            &AutoscalerConfig::default(),
            &DeploymentConfig::default(),
            0,
            &ann,
        );
        Hpa::new(&ann, &scaling, true, &ControllerSettings::default())
    }

    fn ready_pod(i: u32) -> PodView {
        PodView {
            id: PodId(i),
            pending: false,
            deleting: false,
            ready: true,
            ready_since: SimTime::from_secs(1),
            started: Some(SimTime::ZERO),
        }
    }

    #[test]
    fn the_sks_proxies_only_without_a_ready_pod() {
        let mut h = hpa(None);
        let cfg = AutoscalerConfig::default();
        let plan = h.plan(SimTime::ZERO, &cfg);
        assert_eq!(plan.replicas, None, "Knative's initial replicas stand");
        let s = h.settle(SimTime::ZERO, &plan, 0, &cfg);
        assert_eq!(h.sks_mode(), SksMode::Proxy);
        assert!(!s.initialized);
        let s = h.settle(SimTime::ZERO, &plan, 1, &cfg);
        assert_eq!(h.sks_mode(), SksMode::Serve);
        assert!(s.initialized && !s.condition_changed);
        assert!(!h.settle(SimTime::ZERO, &plan, 1, &cfg).initialized, "once");
        assert!(!h.in_panic());
    }

    #[test]
    fn no_metrics_keeps_the_scale_and_cpu_above_target_doubles_it() {
        let mut h = hpa(None);
        let pods = [ready_pod(0), ready_pod(1)];
        let t = SimTime::from_secs(15);
        assert_eq!(h.sync(t, 2, &pods, Some(1000)), None, "no samples yet");
        assert_eq!(h.status().0, 2);
        // Each pod used one core over the last 15 s: 100 % against 50 %.
        let at = |s: u64| SimTime::from_secs(s);
        h.scrape_metrics(at(20), [(PodId(0), 5.0, 0), (PodId(1), 5.0, 0)].into_iter());
        h.scrape_metrics(
            at(35),
            [(PodId(0), 20.0, 0), (PodId(1), 20.0, 0)].into_iter(),
        );
        assert_eq!(h.sync(at(45), 2, &pods, Some(1000)), Some(4));
        assert_eq!(
            h.plan(at(45), &AutoscalerConfig::default()).replicas,
            Some(4)
        );
        // A pod that is gone drops out of the samples.
        h.scrape_metrics(at(50), [(PodId(0), 35.0, 0)].into_iter());
        assert_eq!(h.metrics.cpu().keys().collect::<Vec<_>>(), ["pod-00000000"]);
        let s = h.summary(0.0);
        assert_eq!((s.syncs, s.scale_ups, s.max_desired_replicas), (2, 1, 4));
    }

    #[test]
    fn min_scale_zero_still_keeps_one_pod() {
        let h = hpa(None);
        assert_eq!(h.spec.min_replicas, 1);
        assert_eq!(h.spec.max_replicas, i32::MAX);
        let mut h = hpa(Some(3));
        assert_eq!(h.spec.min_replicas, 3);
        assert!(h.set_reachable(false));
        assert_eq!(
            h.spec.min_replicas, 1,
            "min-scale is dropped when unreachable"
        );
    }

    #[test]
    fn without_a_cpu_request_the_hpa_never_scales() {
        let mut h = hpa(None);
        let pods = [ready_pod(0)];
        let at = |s: u64| SimTime::from_secs(s);
        h.scrape_metrics(at(20), [(PodId(0), 0.0, 0)].into_iter());
        h.scrape_metrics(at(35), [(PodId(0), 30.0, 0)].into_iter());
        assert_eq!(h.sync(at(45), 1, &pods, None), None);
        assert_eq!(h.status().0, 1);
    }
}
