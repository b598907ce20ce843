//! The Kubernetes HorizontalPodAutoscaler, which Knative's HPA class
//! (`hpa.autoscaling.knative.dev`) hands scaling to. Pure ports of
//! kubernetes/kubernetes `pkg/controller/podautoscaler/`:
//!
//! * [`replica_calc`]: desired replicas from pod metrics
//!   (`replica_calculator.go`, `metrics/utilization.go`);
//! * [`behavior`]: stabilization, scaling policies and bounds
//!   (`horizontal.go`, `pkg/apis/autoscaling/v2/defaults.go`);
//! * [`controller`]: one reconcile (`horizontal.go` `reconcileAutoscaler`);
//! * [`metrics_server`]: the resource metrics the controller reads (CPU as
//!   a rate over the last scrape interval, memory as the working set);
//! * [`mapping`]: the HPA object Knative derives from a revision's
//!   annotations (knative/serving `pkg/reconciler/autoscaling/hpa/resources/hpa.go`).

pub mod behavior;
pub mod controller;
pub mod mapping;
pub mod metrics_server;
pub mod replica_calc;

pub use behavior::{Behavior, Bounds, HpaState, LimitReason, ScalingRules};
pub use controller::{reconcile, ControllerSettings, Tick};
pub use mapping::{make_hpa, HpaMetric, HpaSpec};
pub use replica_calc::{
    resource_replicas, CalcConfig, CalcError, Pod, PodMetric, PodPhase, ReadyCondition,
    Recommendation, Resource, Target, Tolerances,
};
