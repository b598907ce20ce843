//! What Knative writes into the HorizontalPodAutoscaler for an HPA-class
//! revision: a port of knative/serving
//! `pkg/reconciler/autoscaling/hpa/resources/hpa.go` (`MakeHPA`), with the
//! API server's defaults (`k8s.io/kubernetes` `pkg/apis/autoscaling/v2/defaults.go`)
//! applied, since the controller only ever sees the defaulted object.

use super::behavior::{Behavior, ScalingRules};
use super::replica_calc::{Resource, Target};
use crate::sim::SimDuration;

/// `autoscaling.DefaultCPUUtilization`: the API default target when no
/// metric is written.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

/// The metric of an HPA-class revision (`autoscaling.knative.dev/metric`).
/// Knative also passes any other name through as a custom Pods metric; the
/// simulator has no source for those.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpaMetric {
    /// `cpu` (Knative's default for the class, `pa_defaults.go`).
    Cpu,
    /// `memory`.
    Memory,
}

/// The defaulted HPA spec the controller acts on.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaSpec {
    /// `spec.minReplicas` after API defaulting (nil → 1): the class never
    /// scales to zero.
    pub min_replicas: i32,
    /// `spec.maxReplicas` (`max-scale`, 0 → MaxInt32).
    pub max_replicas: i32,
    /// The single metric: its resource and target.
    pub resource: Resource,
    /// Its target.
    pub target: Target,
    /// `spec.behavior`, set only with a `window` annotation; `None` means
    /// the controller's legacy normalization.
    pub behavior: Option<Behavior>,
}

/// `MakeHPA` plus API defaulting. `min_scale`/`max_scale` are the
/// PodAutoscaler's `ScaleBounds` (annotation over ConfigMap; min already 0
/// when the revision is unreachable); `target` is the raw `target`
/// annotation; `window` the `window` annotation.
pub fn make_hpa(
    metric: HpaMetric,
    target: Option<f64>,
    min_scale: i32,
    max_scale: i32,
    window: Option<SimDuration>,
) -> HpaSpec {
    let max_replicas = if max_scale == 0 { i32::MAX } else { max_scale };
    // minReplicas is left nil for 0, and the API server defaults nil to 1.
    let min_replicas = if min_scale > 0 { min_scale } else { 1 };
    let (resource, target) = match (target, metric) {
        // The cpu target is a percent of the request, rounded up.
        (Some(t), HpaMetric::Cpu) => (Resource::Cpu, Target::Utilization(t.ceil() as i32)),
        // The memory target is in MiB, truncated; the controller compares
        // milli-units.
        (Some(t), HpaMetric::Memory) => (
            Resource::Memory,
            Target::AverageValue((t as i64) * 1024 * 1024 * 1000),
        ),
        // No target: no metric is written, and the API default (cpu at
        // 80 %) applies even when the metric annotation says memory.
        (None, _) => (Resource::Cpu, Target::Utilization(DEFAULT_CPU_UTILIZATION)),
    };
    let behavior = window.map(|w| {
        let secs = w.as_secs_f64() as i32;
        let mut up = ScalingRules::default_scale_up();
        up.stabilization_window_s = secs;
        let mut down = ScalingRules::default_scale_down();
        down.stabilization_window_s = secs;
        Behavior {
            scale_up: up,
            scale_down: down,
        }
    });
    HpaSpec {
        min_replicas,
        max_replicas,
        resource,
        target,
        behavior,
    }
}

#[cfg(test)]
mod tests {
    //! Cases of knative/serving
    //! `pkg/reconciler/autoscaling/hpa/resources/hpa_test.go` (`TestMakeHPA`),
    //! compared after API defaulting.
    use super::*;

    fn base() -> HpaSpec {
        HpaSpec {
            min_replicas: 1,
            max_replicas: i32::MAX,
            resource: Resource::Cpu,
            target: Target::Utilization(DEFAULT_CPU_UTILIZATION),
            behavior: None,
        }
    }

    #[test]
    fn test_make_hpa_defaults() {
        assert_eq!(make_hpa(HpaMetric::Cpu, None, 0, 0, None), base());
    }

    #[test]
    fn test_make_hpa_with_lower_bound() {
        let want = HpaSpec {
            min_replicas: 5,
            ..base()
        };
        assert_eq!(make_hpa(HpaMetric::Cpu, None, 5, 0, None), want);
    }

    #[test]
    fn test_make_hpa_with_upper_bound() {
        let want = HpaSpec {
            max_replicas: 5,
            ..base()
        };
        assert_eq!(make_hpa(HpaMetric::Cpu, None, 0, 5, None), want);
    }

    #[test]
    fn test_make_hpa_with_an_actual_cpu_target() {
        let got = make_hpa(HpaMetric::Cpu, Some(50.0), 0, 0, None);
        assert_eq!(got.target, Target::Utilization(50));
        assert_eq!(got.resource, Resource::Cpu);
    }

    #[test]
    fn test_make_hpa_with_an_actual_memory_target() {
        let got = make_hpa(HpaMetric::Memory, Some(50.0), 0, 0, None);
        assert_eq!(got.resource, Resource::Memory);
        // 50 MiB as a milli-value.
        assert_eq!(got.target, Target::AverageValue(50 * 1024 * 1024 * 1000));
    }

    #[test]
    fn test_make_hpa_with_an_actual_fractional_target() {
        let got = make_hpa(HpaMetric::Cpu, Some(1982.4), 0, 0, None);
        assert_eq!(got.target, Target::Utilization(1983));
    }

    #[test]
    fn test_make_hpa_with_window_annotation() {
        let got = make_hpa(
            HpaMetric::Cpu,
            Some(50.0),
            0,
            0,
            Some(SimDuration::from_secs_f64(60.0)),
        );
        let b = got.behavior.expect("behavior");
        assert_eq!(b.scale_up.stabilization_window_s, 60);
        assert_eq!(b.scale_down.stabilization_window_s, 60);
        // API defaulting completes the policies of both directions.
        assert_eq!(
            b.scale_up.policies,
            ScalingRules::default_scale_up().policies
        );
        assert_eq!(
            b.scale_down.policies,
            ScalingRules::default_scale_down().policies
        );
    }

    #[test]
    fn memory_target_truncates_mebibytes() {
        let got = make_hpa(HpaMetric::Memory, Some(64.9), 0, 0, None);
        assert_eq!(got.target, Target::AverageValue(64 * 1024 * 1024 * 1000));
    }
}
