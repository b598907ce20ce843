//! The Kubernetes HorizontalPodAutoscaler, which Knative's HPA class
//! (`hpa.autoscaling.knative.dev`) hands scaling to. Pure ports of
//! kubernetes/kubernetes `pkg/controller/podautoscaler/`:
//!
//! * [`replica_calc`]: desired replicas from pod metrics
//!   (`replica_calculator.go`, `metrics/utilization.go`);
//! * [`behavior`]: stabilization, scaling policies and bounds
//!   (`horizontal.go`, `pkg/apis/autoscaling/v2/defaults.go`).

pub mod behavior;
pub mod replica_calc;

pub use replica_calc::{
    resource_replicas, CalcConfig, CalcError, Pod, PodMetric, PodPhase, ReadyCondition,
    Recommendation, Resource, Target, Tolerances,
};
