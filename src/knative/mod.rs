//! Faithful ports of the Knative Serving algorithms the simulator runs, as
//! pure functions and small state machines (no event queue, no I/O). Each
//! submodule names the upstream file it follows (knative/serving v1.23):
//!
//! * [`config`]: ConfigMaps (`pkg/autoscaler/config/config.go`,
//!   `pkg/apis/config/defaults.go`, `pkg/deployment/config.go`, networking's
//!   `config-network`);
//! * [`annotations`]: per-revision annotations
//!   (`pkg/apis/autoscaling/annotation_validation.go`);
//! * [`buckets`]: metric windows (`pkg/autoscaler/aggregation/bucketing.go`);
//! * [`collector`]: per-revision metric collection
//!   (`pkg/autoscaler/metrics/collector.go`);
//! * [`sample_size`]: scraper sampling (`pkg/autoscaler/metrics/sample_size.go`);
//! * [`delay_window`]: scale-down delay (`pkg/autoscaler/aggregation/max/`);
//! * [`dataplane`]: fixed numbers of the queue-proxy, activator and scraper
//!   (`pkg/queue/sharedmain/main.go`, `pkg/activator/net/revision_backends.go`,
//!   `pkg/autoscaler/metrics/collector.go`);
//! * [`decider`]: the scaling decision (`pkg/autoscaler/scaling/autoscaler.go`);
//! * [`kpa`]: the KPA reconciler's arithmetic and scale-to-zero gating
//!   (`pkg/reconciler/autoscaling/kpa/{kpa.go,scaler.go}`, `resources/`);
//! * [`route`]: traffic validation and splitting
//!   (`pkg/apis/serving/v1/route_validation.go`,
//!   `pkg/reconciler/route/traffic/traffic.go`, gradual rollout from
//!   `rollout.go`).

pub mod annotations;
pub mod buckets;
pub mod collector;
pub mod config;
pub mod dataplane;
pub mod decider;
pub mod delay_window;
pub mod error;
pub mod eventing;
mod gofmt;
pub mod hpa;
pub mod kpa;
pub mod queue_resources;
pub mod route;
pub mod sample_size;

pub use annotations::RevisionAnnotations;
pub use buckets::{
    round_to_n_digits, Aggregation, MetricBuckets, TimedFloat64Buckets, WeightedFloat64Buckets,
};
pub use collector::{scrape_estimate, Collector, Stat};
pub use config::{AutoscalerConfig, DefaultsConfig, DeploymentConfig, NetworkConfig};
pub use decider::{
    initial_excess_burst_capacity, same_sign, Decider, DeciderSpec, DeciderStatus, ScaleResult,
    ScalingMetric,
};
pub use delay_window::MaxTimeWindow;
pub use error::FieldError;
pub use kpa::{
    active_threshold, apply_bounds, compute_active_condition, compute_num_activators, panic_window,
    resolve_metric_target, resolve_revision_scaling, scaler_scale, sks_mode, ActiveCondition,
    PaState, RevisionScaling, ScalerDecision, ScalerInput, SksMode,
};
pub use route::{
    compute_traffic, is_dns1035_label, validate_traffic, TrafficConfig, TrafficTarget,
};
pub use sample_size::population_mean_sample_size;
