//! A revision's `[revision.usage]` table: what each request costs a pod in
//! CPU and memory, for the resource model that metrics-server and the HPA
//! read. Absent, a revision uses no resource model unless it is HPA-class.
//! Also the scenario's `[hpa]` table: the HPA controller's flags.

use super::problems::Problems;
use super::revision::workload_problem;
use crate::knative::hpa::ControllerSettings;
use crate::kubernetes::quantity::parse_quantity;
use crate::workload::{Dist, DistSpec, DurationValue};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `[revision.usage]` as written.
#[derive(Clone, Debug, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawUsage {
    /// CPU time one request uses, at one core (default: its service time).
    pub cpu_per_request: Option<DistSpec>,
    /// Working set of an idle pod, a quantity such as `"128Mi"`.
    pub memory_baseline: Option<String>,
    /// Working set added by each request the pod holds, e.g. `"2Mi"`.
    pub memory_per_request: Option<String>,
}

/// The validated usage model of one revision.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// CPU seconds per request; `None` = the request's service time at one
    /// core (no extra random draw).
    pub cpu_per_request: Option<Dist>,
    /// Bytes of an idle pod.
    pub memory_baseline: i64,
    /// Bytes per request held.
    pub memory_per_request: i64,
}

/// Checks `raw` (at field path `path`).
pub(super) fn build_usage(
    p: &mut Problems,
    path: &str,
    raw: &RawUsage,
    base_dir: &Path,
) -> Option<Usage> {
    let before = p.list.len();
    let cpu = raw.cpu_per_request.as_ref().and_then(|d| {
        d.build(&format!("{path}.cpu-per-request"), base_dir)
            .map_err(|e| {
                let (f, r) = workload_problem(&e);
                p.push(f, r);
            })
            .ok()
    });
    let mut bytes = |name: &str, v: &Option<String>| -> i64 {
        let Some(s) = v else { return 0 };
        match parse_quantity(s) {
            Ok(q) if q.value() >= 0 => q.value(),
            Ok(_) => {
                p.push(
                    format!("{path}.{name}"),
                    format!("must not be negative, got {s:?}"),
                );
                0
            }
            Err(e) => {
                p.push(
                    format!("{path}.{name}"),
                    format!("{e} (a quantity such as \"128Mi\")"),
                );
                0
            }
        }
    };
    let memory_baseline = bytes("memory-baseline", &raw.memory_baseline);
    let memory_per_request = bytes("memory-per-request", &raw.memory_per_request);
    (p.list.len() == before).then_some(Usage {
        cpu_per_request: cpu,
        memory_baseline,
        memory_per_request,
    })
}

/// `[hpa]` as written: kube-controller-manager's HPA flags and
/// metrics-server's resolution, for every HPA-class revision.
#[derive(Clone, Debug, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawHpa {
    /// `--horizontal-pod-autoscaler-sync-period` (default `"15s"`).
    pub sync_period: Option<DurationValue>,
    /// `--horizontal-pod-autoscaler-tolerance` (default 0.1).
    pub tolerance: Option<f64>,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (`"5m"`).
    pub cpu_initialization_period: Option<DurationValue>,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (`"30s"`).
    pub initial_readiness_delay: Option<DurationValue>,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (`"5m"`).
    pub downscale_stabilization: Option<DurationValue>,
    /// metrics-server's `--metric-resolution` (`"15s"`).
    pub metric_resolution: Option<DurationValue>,
}

/// Checks `[hpa]`; every key defaults to the upstream default.
pub(super) fn build_hpa_settings(p: &mut Problems, raw: &RawHpa) -> ControllerSettings {
    let d = ControllerSettings::default();
    let mut dur = |key: &str, v: &Option<DurationValue>, def, positive: bool| {
        let field = format!("hpa.{key}");
        let got = super::duration_field(p, &field, v, def);
        if positive && got == crate::sim::SimDuration::ZERO {
            p.push(field, "must be greater than 0");
            return def;
        }
        got
    };
    let sync_period = dur("sync-period", &raw.sync_period, d.sync_period, true);
    let cpu_initialization_period = dur(
        "cpu-initialization-period",
        &raw.cpu_initialization_period,
        d.cpu_initialization_period,
        false,
    );
    let initial_readiness_delay = dur(
        "initial-readiness-delay",
        &raw.initial_readiness_delay,
        d.initial_readiness_delay,
        false,
    );
    let downscale_stabilization = dur(
        "downscale-stabilization",
        &raw.downscale_stabilization,
        d.downscale_stabilization,
        false,
    );
    let metric_resolution = dur(
        "metric-resolution",
        &raw.metric_resolution,
        d.metric_resolution,
        true,
    );
    let tolerance = match raw.tolerance {
        Some(t) if !(0.0..1.0).contains(&t) => {
            p.push("hpa.tolerance", format!("expected 0 <= {t} < 1"));
            d.tolerance
        }
        Some(t) => t,
        None => d.tolerance,
    };
    ControllerSettings {
        sync_period,
        tolerance,
        cpu_initialization_period,
        initial_readiness_delay,
        downscale_stabilization,
        metric_resolution,
    }
}
