//! Per-revision autoscaling annotations: the keys of
//! `pkg/apis/autoscaling/register.go`, validated by the rules of
//! `pkg/apis/autoscaling/annotation_validation.go` (plus the two
//! `serving.knative.dev/` duration annotations of
//! `pkg/apis/serving/v1/revision_validation.go` and
//! `pkg/apis/serving/metadata_validation.go`).
//!
//! Where a legacy camelCase alias exists the kebab-case key wins, as
//! `kmap.KeyPriority` does. Unknown keys under `autoscaling.knative.dev/`
//! are rejected as typos; other prefixes are ignored.

use std::collections::BTreeMap;

pub use super::buckets::Aggregation;
use super::config::{
    AutoscalerClass, AutoscalerConfig, HPA_CLASS, KPA_CLASS, PANIC_THRESHOLD_PERCENTAGE_MAX,
    PANIC_THRESHOLD_PERCENTAGE_MIN, PANIC_WINDOW_PERCENTAGE_MAX, PANIC_WINDOW_PERCENTAGE_MIN,
    TARGET_MIN, WINDOW_MAX, WINDOW_MIN,
};
pub use super::decider::ScalingMetric;
use super::error::FieldError;
use super::gofmt::{self, IntError};
pub use super::hpa::HpaMetric;
use crate::sim::SimDuration;

const GROUP: &str = "autoscaling.knative.dev/";

/// `autoscaling.knative.dev/class`.
pub const CLASS_KEY: &str = "autoscaling.knative.dev/class";
/// `autoscaling.knative.dev/metric`.
pub const METRIC_KEY: &str = "autoscaling.knative.dev/metric";
/// `autoscaling.knative.dev/target`.
pub const TARGET_KEY: &str = "autoscaling.knative.dev/target";
/// `autoscaling.knative.dev/window`.
pub const WINDOW_KEY: &str = "autoscaling.knative.dev/window";
/// `autoscaling.knative.dev/min-scale`.
pub const MIN_SCALE_KEY: &str = "autoscaling.knative.dev/min-scale";
/// `autoscaling.knative.dev/max-scale`.
pub const MAX_SCALE_KEY: &str = "autoscaling.knative.dev/max-scale";
/// `autoscaling.knative.dev/activation-scale`.
pub const ACTIVATION_SCALE_KEY: &str = "autoscaling.knative.dev/activation-scale";
/// `serving.knative.dev/progress-deadline`.
pub const PROGRESS_DEADLINE_KEY: &str = "serving.knative.dev/progress-deadline";
/// `serving.knative.dev/rollout-duration`.
pub const ROLLOUT_DURATION_KEY: &str = "serving.knative.dev/rollout-duration";

const TARGET_UTILIZATION: [&str; 2] = [
    "autoscaling.knative.dev/target-utilization-percentage",
    "autoscaling.knative.dev/targetUtilizationPercentage",
];
const TARGET_BURST_CAPACITY: [&str; 2] = [
    "autoscaling.knative.dev/target-burst-capacity",
    "autoscaling.knative.dev/targetBurstCapacity",
];
const PANIC_WINDOW_PERCENTAGE: [&str; 2] = [
    "autoscaling.knative.dev/panic-window-percentage",
    "autoscaling.knative.dev/panicWindowPercentage",
];
const PANIC_THRESHOLD_PERCENTAGE: [&str; 2] = [
    "autoscaling.knative.dev/panic-threshold-percentage",
    "autoscaling.knative.dev/panicThresholdPercentage",
];
const MIN_SCALE: [&str; 2] = [MIN_SCALE_KEY, "autoscaling.knative.dev/minScale"];
const MAX_SCALE: [&str; 2] = [MAX_SCALE_KEY, "autoscaling.knative.dev/maxScale"];
const INITIAL_SCALE: [&str; 2] = [
    "autoscaling.knative.dev/initial-scale",
    "autoscaling.knative.dev/initialScale",
];
const SCALE_DOWN_DELAY: [&str; 2] = [
    "autoscaling.knative.dev/scale-down-delay",
    "autoscaling.knative.dev/scaleDownDelay",
];
const RETENTION: [&str; 2] = [
    "autoscaling.knative.dev/scale-to-zero-pod-retention-period",
    "autoscaling.knative.dev/scaleToZeroPodRetentionPeriod",
];
const AGGREGATION: [&str; 2] = [
    "autoscaling.knative.dev/metric-aggregation-algorithm",
    "autoscaling.knative.dev/metricAggregationAlgorithm",
];
const ROLLOUT_DURATION: [&str; 2] = [ROLLOUT_DURATION_KEY, "serving.knative.dev/rolloutDuration"];

/// Every key under `autoscaling.knative.dev/` that Knative defines.
pub const AUTOSCALING_KEYS: &[&str] = &[
    CLASS_KEY,
    METRIC_KEY,
    TARGET_KEY,
    WINDOW_KEY,
    ACTIVATION_SCALE_KEY,
    TARGET_UTILIZATION[0],
    TARGET_UTILIZATION[1],
    TARGET_BURST_CAPACITY[0],
    TARGET_BURST_CAPACITY[1],
    PANIC_WINDOW_PERCENTAGE[0],
    PANIC_WINDOW_PERCENTAGE[1],
    PANIC_THRESHOLD_PERCENTAGE[0],
    PANIC_THRESHOLD_PERCENTAGE[1],
    MIN_SCALE[0],
    MIN_SCALE[1],
    MAX_SCALE[0],
    MAX_SCALE[1],
    INITIAL_SCALE[0],
    INITIAL_SCALE[1],
    SCALE_DOWN_DELAY[0],
    SCALE_DOWN_DELAY[1],
    RETENTION[0],
    RETENTION[1],
    AGGREGATION[0],
    AGGREGATION[1],
];

/// Per-revision annotations after validation; `None` means "not set, use the
/// ConfigMap value".
#[derive(Clone, Debug, PartialEq)]
pub struct RevisionAnnotations {
    /// `class`, when the annotation is set (only modelled classes validate).
    pub class: Option<AutoscalerClass>,
    /// `metric` of a KPA-class revision (default concurrency).
    pub metric: ScalingMetric,
    /// `metric` of an HPA-class revision (default cpu, `pa_defaults.go`);
    /// `None` for the KPA class.
    pub hpa_metric: Option<HpaMetric>,
    /// `target`: per-pod target (concurrency or RPS).
    pub target: Option<f64>,
    /// `target-utilization-percentage`, in percent (1..=100).
    pub target_utilization_percentage: Option<f64>,
    /// `target-burst-capacity` (≥ 0 or -1).
    pub target_burst_capacity: Option<f64>,
    /// `window`: the stable window.
    pub window: Option<SimDuration>,
    /// `panic-window-percentage`.
    pub panic_window_percentage: Option<f64>,
    /// `panic-threshold-percentage`.
    pub panic_threshold_percentage: Option<f64>,
    /// `min-scale`.
    pub min_scale: Option<i32>,
    /// `max-scale` (0 = unlimited).
    pub max_scale: Option<i32>,
    /// `initial-scale` as written (see [`RevisionAnnotations::effective_initial_scale`]).
    pub initial_scale: Option<i32>,
    /// `activation-scale`.
    pub activation_scale: Option<i32>,
    /// `scale-down-delay`.
    pub scale_down_delay: Option<SimDuration>,
    /// `scale-to-zero-pod-retention-period`.
    pub scale_to_zero_pod_retention_period: Option<SimDuration>,
    /// `metric-aggregation-algorithm` (default linear).
    pub aggregation: Aggregation,
    /// `serving.knative.dev/progress-deadline`.
    pub progress_deadline: Option<SimDuration>,
    /// `serving.knative.dev/rollout-duration`.
    pub rollout_duration: Option<SimDuration>,
}

impl Default for RevisionAnnotations {
    /// No annotations at all.
    fn default() -> Self {
        RevisionAnnotations {
            class: None,
            metric: ScalingMetric::Concurrency,
            hpa_metric: None,
            target: None,
            target_utilization_percentage: None,
            target_burst_capacity: None,
            window: None,
            panic_window_percentage: None,
            panic_threshold_percentage: None,
            min_scale: None,
            max_scale: None,
            initial_scale: None,
            activation_scale: None,
            scale_down_delay: None,
            scale_to_zero_pod_retention_period: None,
            aggregation: Aggregation::Linear,
            progress_deadline: None,
            rollout_duration: None,
        }
    }
}

/// `kmap.KeyPriority.Get`: the first of `keys` present wins.
fn get<'a>(
    m: &'a BTreeMap<String, String>,
    keys: &[&'static str],
) -> Option<(&'static str, &'a str)> {
    keys.iter()
        .find_map(|k| m.get(*k).map(|v| (*k, v.as_str())))
}

fn invalid(v: &str, k: &str) -> FieldError {
    FieldError::new(k, format!("invalid value: {v}"))
}

fn out_of_bounds(
    v: impl std::fmt::Display,
    lo: impl std::fmt::Display,
    hi: impl std::fmt::Display,
    k: &str,
) -> FieldError {
    FieldError::new(k, format!("expected {lo} <= {v} <= {hi}"))
}

/// `getIntGE0`: a non-negative int32 annotation (0 when absent).
fn int_ge0(
    m: &BTreeMap<String, String>,
    keys: &[&'static str],
    errs: &mut Vec<FieldError>,
) -> (i32, bool) {
    let Some((k, v)) = get(m, keys) else {
        return (0, false);
    };
    match gofmt::parse_i32(v) {
        Ok(i) if i >= 0 => (i, true),
        Ok(_) | Err(IntError::Range) => {
            errs.push(out_of_bounds(v, 0, i32::MAX, k));
            (0, false)
        }
        Err(IntError::Syntax) => {
            errs.push(invalid(v, k));
            (0, false)
        }
    }
}

/// A float annotation checked by `check`, which returns the error if any.
fn float(
    m: &BTreeMap<String, String>,
    keys: &[&'static str],
    errs: &mut Vec<FieldError>,
    check: impl Fn(&'static str, &str, f64) -> Option<FieldError>,
) -> Option<f64> {
    let (k, v) = get(m, keys)?;
    match gofmt::parse_float(v) {
        None => {
            errs.push(invalid(v, k));
            None
        }
        Some(f) => match check(k, v, f) {
            Some(e) => {
                errs.push(e);
                None
            }
            None => Some(f),
        },
    }
}

/// A duration annotation checked by `check`.
fn duration(
    m: &BTreeMap<String, String>,
    keys: &[&'static str],
    errs: &mut Vec<FieldError>,
    check: impl Fn(&'static str, &str, SimDuration) -> Option<FieldError>,
) -> Option<SimDuration> {
    let (k, v) = get(m, keys)?;
    match gofmt::parse_duration(v) {
        Err(_) => {
            errs.push(invalid(v, k));
            None
        }
        Ok(d) => match check(k, v, d) {
            Some(e) => {
                errs.push(e);
                None
            }
            None => Some(d),
        },
    }
}

impl RevisionAnnotations {
    /// Whether the revision is HPA-class (`hpa.autoscaling.knative.dev`).
    pub fn is_hpa(&self) -> bool {
        self.class == Some(AutoscalerClass::Hpa)
    }

    /// A timeline may not switch a running revision between the KPA and
    /// the HPA: Knative would hand the PodAutoscaler to another reconciler,
    /// which the simulator does not model.
    pub fn check_same_class(self, before: &RevisionAnnotations) -> Result<Self, Vec<FieldError>> {
        if self.is_hpa() != before.is_hpa() {
            return Err(vec![FieldError::new(
                CLASS_KEY,
                "changing the autoscaler class of an existing revision is not simulated; \
                 create a new revision with the other class instead",
            )]);
        }
        Ok(self)
    }

    /// Full annotation keys (e.g. "autoscaling.knative.dev/window"). Error
    /// path = the full key. Cross-field rules need the CM
    /// (allow-zero-initial-scale, max-scale-limit). Unknown keys under
    /// autoscaling.knative.dev/ are errors (typos); other annotation
    /// prefixes are accepted and ignored. The class is the KPA or the HPA
    /// (with metric cpu or memory); any other class is an error.
    pub fn parse(
        ann: &BTreeMap<String, String>,
        cfg: &AutoscalerConfig,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut a = RevisionAnnotations::default();

        for k in ann.keys() {
            if k.starts_with(GROUP) && !AUTOSCALING_KEYS.contains(&k.as_str()) {
                errs.push(FieldError::new(
                    k.clone(),
                    format!(
                        "unknown autoscaling annotation; valid keys are: {}",
                        AUTOSCALING_KEYS.join(", ")
                    ),
                ));
            }
        }

        // validateClass, then the simulator's own restriction to KPA.
        // Without the annotation the class is config-autoscaler's, already
        // checked to be one the simulator models.
        let class_ann = ann.get(CLASS_KEY).map(String::as_str);
        if let Some(v) = class_ann {
            if v.ends_with(".knative.dev") && v != KPA_CLASS && v != HPA_CLASS {
                errs.push(invalid(v, CLASS_KEY));
            } else {
                match AutoscalerClass::parse(v) {
                    Ok(class) => a.class = Some(class),
                    Err(rule) => errs.push(FieldError::new(CLASS_KEY, rule)),
                }
            }
        }

        // validateMinMaxScale (annotation values only; absent = 0).
        let (min, _) = int_ge0(ann, &MIN_SCALE, &mut errs);
        let (max, _) = int_ge0(ann, &MAX_SCALE, &mut errs);
        if max != 0 && max < min {
            errs.push(FieldError::new(
                MAX_SCALE_KEY,
                format!("max-scale={max} is less than min-scale={min}"),
            ));
        }
        if let Some((k, _)) = get(ann, &MAX_SCALE) {
            let limit = cfg.max_scale_limit;
            if limit != 0 {
                if max > limit {
                    errs.push(out_of_bounds(max, 1, limit, k));
                }
                if max == 0 {
                    errs.push(FieldError::new(
                        k,
                        format!("max-scale=0 (unlimited), must be less than {limit}"),
                    ));
                }
            }
        }
        if let Some((k, v)) = get(ann, &[ACTIVATION_SCALE_KEY]) {
            match gofmt::parse_i32(v) {
                Err(_) => errs.push(invalid(v, k)),
                Ok(nz) if min > nz => errs.push(FieldError::new(
                    k,
                    format!("min-scale={min} is greater than activation-scale={nz}"),
                )),
                Ok(nz) if max < nz && max != 0 => errs.push(FieldError::new(
                    k,
                    format!("max-scale={max} is less than activation-scale={nz}"),
                )),
                Ok(nz) if nz < 2 => errs.push(FieldError::new(
                    k,
                    format!("activation-scale={nz} must be greater than 1"),
                )),
                Ok(nz) => a.activation_scale = Some(nz),
            }
        }
        a.min_scale = get(ann, &MIN_SCALE).and_then(|(_, v)| gofmt::parse_i32(v).ok());
        a.max_scale = get(ann, &MAX_SCALE).and_then(|(_, v)| gofmt::parse_i32(v).ok());

        // validateFloats.
        a.panic_window_percentage = float(ann, &PANIC_WINDOW_PERCENTAGE, &mut errs, |k, v, f| {
            (!(PANIC_WINDOW_PERCENTAGE_MIN..=PANIC_WINDOW_PERCENTAGE_MAX).contains(&f)).then(|| {
                out_of_bounds(
                    v,
                    PANIC_WINDOW_PERCENTAGE_MIN,
                    PANIC_WINDOW_PERCENTAGE_MAX,
                    k,
                )
            })
        });
        a.panic_threshold_percentage =
            float(ann, &PANIC_THRESHOLD_PERCENTAGE, &mut errs, |k, v, f| {
                (!(PANIC_THRESHOLD_PERCENTAGE_MIN..=PANIC_THRESHOLD_PERCENTAGE_MAX).contains(&f))
                    .then(|| {
                        out_of_bounds(
                            v,
                            PANIC_THRESHOLD_PERCENTAGE_MIN,
                            PANIC_THRESHOLD_PERCENTAGE_MAX,
                            k,
                        )
                    })
            });
        a.target = float(ann, &[TARGET_KEY], &mut errs, |k, v, f| {
            (f < TARGET_MIN || f.is_nan())
                .then(|| FieldError::new(k, format!("target {v} should be at least {TARGET_MIN}")))
        });
        a.target_utilization_percentage = float(ann, &TARGET_UTILIZATION, &mut errs, |k, v, f| {
            (!(1.0..=100.0).contains(&f)).then(|| out_of_bounds(v, 1, 100, k))
        });
        a.target_burst_capacity = float(ann, &TARGET_BURST_CAPACITY, &mut errs, |k, v, f| {
            (f < 0.0 && f != -1.0 || f.is_nan()).then(|| invalid(v, k))
        });

        // validateWindow, validateLastPodRetention, validateScaleDownDelay.
        let wmin = gofmt::duration(WINDOW_MIN);
        let wmax = gofmt::duration(WINDOW_MAX);
        a.window = duration(ann, &[WINDOW_KEY], &mut errs, |k, v, d| {
            if d < WINDOW_MIN || d > WINDOW_MAX {
                Some(out_of_bounds(v, &wmin, &wmax, k))
            } else if !d.is_whole_seconds() {
                Some(FieldError::new(
                    k,
                    "must be specified with at most second precision",
                ))
            } else {
                None
            }
        });
        a.scale_to_zero_pod_retention_period = duration(ann, &RETENTION, &mut errs, |k, v, d| {
            (d > WINDOW_MAX).then(|| out_of_bounds(v, "0s", &wmax, k))
        });
        a.scale_down_delay = duration(ann, &SCALE_DOWN_DELAY, &mut errs, |k, v, d| {
            if d > WINDOW_MAX {
                Some(out_of_bounds(v, "0s", &wmax, k))
            } else if !d.is_whole_seconds() {
                Some(FieldError::new(
                    k,
                    "must be specified with at most second precision",
                ))
            } else {
                None
            }
        });

        // validateMetric, against the annotation's class or else the
        // ConfigMap's: the KPA scales on concurrency or RPS; the HPA class
        // takes any non-empty metric, of which the simulator has a source
        // for cpu and memory only.
        let class = a.class.unwrap_or(cfg.pod_autoscaler_class);
        if class == AutoscalerClass::Hpa {
            a.hpa_metric = Some(HpaMetric::Cpu);
        }
        if let Some(v) = ann.get(METRIC_KEY) {
            match (class, v.as_str()) {
                (AutoscalerClass::Kpa, "concurrency") => a.metric = ScalingMetric::Concurrency,
                (AutoscalerClass::Kpa, "rps") => a.metric = ScalingMetric::Rps,
                (AutoscalerClass::Hpa, "cpu") => a.hpa_metric = Some(HpaMetric::Cpu),
                (AutoscalerClass::Hpa, "memory") => a.hpa_metric = Some(HpaMetric::Memory),
                (AutoscalerClass::Hpa, other) if !other.is_empty() => errs.push(FieldError::new(
                    METRIC_KEY,
                    format!(
                        "custom metric {other:?} of the HPA class is not modelled (it needs a \
                         custom metrics API); use cpu or memory"
                    ),
                )),
                _ => errs.push(invalid(v, METRIC_KEY)),
            }
        }

        // validateAlgorithm: Knative checks the value only when the class
        // annotation itself names the KPA (other classes may define their own
        // algorithms); otherwise an unknown value means linear averaging, as
        // the metric collector's default branch does.
        if let Some((k, v)) = get(ann, &AGGREGATION) {
            match v {
                "weighted-exponential" | "weightedExponential" => {
                    a.aggregation = Aggregation::WeightedExponential
                }
                "linear" | "" => a.aggregation = Aggregation::Linear,
                _ if class_ann == Some(KPA_CLASS) => errs.push(invalid(v, k)),
                _ => a.aggregation = Aggregation::Linear,
            }
        }

        // validateInitialScale.
        if let Some((k, v)) = get(ann, &INITIAL_SCALE) {
            match gofmt::parse_i64(v) {
                Err(_) => errs.push(invalid(v, k)),
                Ok(i) if i < 0 => errs.push(FieldError::new(
                    k,
                    format!("invalid value: {v} (must be greater than 0)"),
                )),
                Ok(0) if !cfg.allow_zero_initial_scale => errs.push(FieldError::new(
                    k,
                    format!("invalid value: {v} (initial-scale=0 not allowed by cluster)"),
                )),
                Ok(i) => match i32::try_from(i) {
                    Ok(i) => a.initial_scale = Some(i),
                    Err(_) => errs.push(invalid(v, k)),
                },
            }
        }

        // Revision/route duration annotations.
        a.progress_deadline = serving_duration(
            ann,
            &[PROGRESS_DEADLINE_KEY],
            "progress-deadline",
            &mut errs,
        );
        a.rollout_duration =
            serving_duration(ann, &ROLLOUT_DURATION, "rollout-duration", &mut errs);

        if errs.is_empty() {
            Ok(a)
        } else {
            Err(errs)
        }
    }

    /// `GetInitialScale`: the annotation unless it is 0 and the cluster does
    /// not allow zero, else the ConfigMap's `initial-scale`.
    pub fn effective_initial_scale(&self, cfg: &AutoscalerConfig) -> i32 {
        match self.initial_scale {
            Some(0) if !cfg.allow_zero_initial_scale => cfg.initial_scale,
            Some(v) => v,
            None => cfg.initial_scale,
        }
    }
}

/// `validateProgressDeadlineAnnotation` / `ValidateRolloutDurationAnnotation`:
/// a Go duration of whole seconds (an empty value counts as unset).
fn serving_duration(
    ann: &BTreeMap<String, String>,
    keys: &[&'static str],
    name: &str,
    errs: &mut Vec<FieldError>,
) -> Option<SimDuration> {
    let (k, v) = get(ann, keys)?;
    if v.is_empty() {
        return None;
    }
    match gofmt::parse_duration(v) {
        Err(_) => {
            errs.push(invalid(v, k));
            None
        }
        Ok(d) if !d.is_whole_seconds() => {
            errs.push(FieldError::new(
                k,
                format!("{name}={v} is not at second precision"),
            ));
            None
        }
        Ok(d) => Some(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (format!("autoscaling.knative.dev/{k}"), v.to_string()))
            .collect()
    }

    fn parse(kv: &[(&str, &str)]) -> Result<RevisionAnnotations, Vec<FieldError>> {
        RevisionAnnotations::parse(&ann(kv), &AutoscalerConfig::default())
    }

    #[test]
    fn empty_is_default() {
        assert_eq!(parse(&[]).unwrap(), RevisionAnnotations::default());
    }

    #[test]
    fn values_are_parsed() {
        let a = parse(&[
            ("class", KPA_CLASS),
            ("metric", "rps"),
            ("target", "150"),
            ("target-utilization-percentage", "80"),
            ("target-burst-capacity", "-1"),
            ("window", "2m"),
            ("panic-window-percentage", "20"),
            ("panic-threshold-percentage", "150"),
            ("min-scale", "1"),
            ("max-scale", "10"),
            ("initial-scale", "3"),
            ("activation-scale", "2"),
            ("scale-down-delay", "30s"),
            ("scale-to-zero-pod-retention-period", "1m"),
            ("metric-aggregation-algorithm", "weightedExponential"),
        ])
        .unwrap();
        assert_eq!(a.metric, ScalingMetric::Rps);
        assert_eq!(a.target, Some(150.0));
        assert_eq!(a.target_utilization_percentage, Some(80.0));
        assert_eq!(a.target_burst_capacity, Some(-1.0));
        assert_eq!(a.window, Some(SimDuration::from_secs(120)));
        assert_eq!(a.panic_window_percentage, Some(20.0));
        assert_eq!(a.panic_threshold_percentage, Some(150.0));
        assert_eq!((a.min_scale, a.max_scale), (Some(1), Some(10)));
        assert_eq!(a.initial_scale, Some(3));
        assert_eq!(a.activation_scale, Some(2));
        assert_eq!(a.scale_down_delay, Some(SimDuration::from_secs(30)));
        assert_eq!(
            a.scale_to_zero_pod_retention_period,
            Some(SimDuration::from_secs(60))
        );
        assert_eq!(a.aggregation, Aggregation::WeightedExponential);
    }

    #[test]
    fn kebab_case_wins_over_alias() {
        let a = parse(&[("minScale", "5"), ("min-scale", "2")]).unwrap();
        assert_eq!(a.min_scale, Some(2));
        let a = parse(&[("targetBurstCapacity", "0")]).unwrap();
        assert_eq!(a.target_burst_capacity, Some(0.0));
    }

    #[test]
    fn window_5s_is_rejected() {
        let e = parse(&[("window", "5s")]).unwrap_err();
        assert_eq!(
            e,
            vec![FieldError::new(WINDOW_KEY, "expected 6s <= 5s <= 1h0m0s")]
        );
        let e = parse(&[("window", "6500ms")]).unwrap_err();
        assert_eq!(e[0].rule, "must be specified with at most second precision");
        let e = parse(&[("window", "soon")]).unwrap_err();
        assert_eq!(e[0].rule, "invalid value: soon");
    }

    #[test]
    fn panic_threshold_100_is_rejected() {
        let e = parse(&[("panic-threshold-percentage", "100")]).unwrap_err();
        assert_eq!(
            e,
            vec![FieldError::new(
                "autoscaling.knative.dev/panic-threshold-percentage",
                "expected 110 <= 100 <= 1000"
            )]
        );
    }

    #[test]
    fn max_below_min_is_rejected() {
        let e = parse(&[("min-scale", "5"), ("max-scale", "3")]).unwrap_err();
        assert_eq!(
            e,
            vec![FieldError::new(
                MAX_SCALE_KEY,
                "max-scale=3 is less than min-scale=5"
            )]
        );
        let e = parse(&[("min-scale", "-1")]).unwrap_err();
        assert_eq!(e[0].rule, "expected 0 <= -1 <= 2147483647");
    }

    #[test]
    fn max_scale_limit_from_the_configmap() {
        let cfg = AutoscalerConfig {
            max_scale_limit: 10,
            max_scale: 5,
            ..AutoscalerConfig::default()
        };
        let e = RevisionAnnotations::parse(&ann(&[("max-scale", "0")]), &cfg).unwrap_err();
        assert_eq!(e[0].rule, "max-scale=0 (unlimited), must be less than 10");
        let e = RevisionAnnotations::parse(&ann(&[("max-scale", "11")]), &cfg).unwrap_err();
        assert_eq!(e[0].rule, "expected 1 <= 11 <= 10");
        assert!(RevisionAnnotations::parse(&ann(&[("max-scale", "10")]), &cfg).is_ok());
    }

    #[test]
    fn initial_scale_zero_needs_cluster_permission() {
        let e = parse(&[("initial-scale", "0")]).unwrap_err();
        assert_eq!(e[0].path, "autoscaling.knative.dev/initial-scale");
        assert!(e[0].rule.contains("not allowed by cluster"));
        let cfg = AutoscalerConfig {
            allow_zero_initial_scale: true,
            ..AutoscalerConfig::default()
        };
        let a = RevisionAnnotations::parse(&ann(&[("initial-scale", "0")]), &cfg).unwrap();
        assert_eq!(a.initial_scale, Some(0));
        assert_eq!(a.effective_initial_scale(&cfg), 0);
        assert_eq!(
            RevisionAnnotations::default().effective_initial_scale(&cfg),
            1
        );
    }

    #[test]
    fn activation_scale_rules() {
        assert!(parse(&[("activation-scale", "1")]).unwrap_err()[0]
            .rule
            .contains("must be greater than 1"));
        assert!(
            parse(&[("activation-scale", "2"), ("min-scale", "3")]).unwrap_err()[0]
                .rule
                .contains("min-scale=3 is greater than activation-scale=2")
        );
        assert!(
            parse(&[("activation-scale", "5"), ("max-scale", "3")]).unwrap_err()[0]
                .rule
                .contains("max-scale=3 is less than activation-scale=5")
        );
    }

    #[test]
    fn float_rules() {
        assert_eq!(
            parse(&[("target", "0.001")]).unwrap_err()[0].rule,
            "target 0.001 should be at least 0.01"
        );
        assert_eq!(
            parse(&[("target-utilization-percentage", "101")]).unwrap_err()[0].rule,
            "expected 1 <= 101 <= 100"
        );
        assert_eq!(
            parse(&[("target-burst-capacity", "-2")]).unwrap_err()[0].rule,
            "invalid value: -2"
        );
        assert_eq!(
            parse(&[("panic-window-percentage", "0")]).unwrap_err()[0].rule,
            "expected 1 <= 0 <= 100"
        );
    }

    /// `validateMetric` for the HPA class (`annotation_validation.go`), and
    /// its default metric (`pa_defaults.go` `defaultMetric`).
    #[test]
    fn hpa_class_takes_cpu_or_memory() {
        let a = parse(&[("class", HPA_CLASS)]).unwrap();
        assert_eq!(a.hpa_metric, Some(HpaMetric::Cpu));
        let a = parse(&[
            ("class", HPA_CLASS),
            ("metric", "memory"),
            ("target", "128"),
        ])
        .unwrap();
        assert_eq!(
            (a.hpa_metric, a.target),
            (Some(HpaMetric::Memory), Some(128.0))
        );
        let a = parse(&[("class", HPA_CLASS), ("metric", "cpu"), ("target", "70")]).unwrap();
        assert_eq!(a.hpa_metric, Some(HpaMetric::Cpu));
        // The KPA's metrics are not the HPA's, and vice versa.
        let e = parse(&[("class", HPA_CLASS), ("metric", "concurrency")]).unwrap_err();
        assert_eq!(e[0].path, METRIC_KEY);
        assert!(e[0].rule.contains("not modelled"), "{e:?}");
        let e = parse(&[("class", HPA_CLASS), ("metric", "")]).unwrap_err();
        assert_eq!(e, vec![FieldError::new(METRIC_KEY, "invalid value: ")]);
        let e = parse(&[("class", KPA_CLASS), ("metric", "memory")]).unwrap_err();
        assert_eq!(
            e,
            vec![FieldError::new(METRIC_KEY, "invalid value: memory")]
        );
        assert_eq!(parse(&[("class", KPA_CLASS)]).unwrap().hpa_metric, None);
    }

    #[test]
    fn typos_classes_and_metrics() {
        let e = parse(&[("windw", "60s")]).unwrap_err();
        assert_eq!(e[0].path, "autoscaling.knative.dev/windw");
        let a = parse(&[("class", HPA_CLASS)]).unwrap();
        assert_eq!(a.class, Some(AutoscalerClass::Hpa));
        let e = parse(&[("class", "foo.knative.dev")]).unwrap_err();
        assert_eq!(e[0].rule, "invalid value: foo.knative.dev");
        let e = parse(&[("metric", "cpu")]).unwrap_err();
        assert_eq!(e, vec![FieldError::new(METRIC_KEY, "invalid value: cpu")]);
        let e = parse(&[
            ("class", KPA_CLASS),
            ("metric-aggregation-algorithm", "median"),
        ])
        .unwrap_err();
        assert_eq!(e[0].rule, "invalid value: median");
        // Without the KPA class annotation Knative does not check the value
        // and averages linearly.
        let a = parse(&[("metric-aggregation-algorithm", "median")]).unwrap();
        assert_eq!(a.aggregation, Aggregation::Linear);
        // Go's time.ParseDuration takes the text as written: no spaces.
        for (k, v) in [
            ("window", " 60s"),
            ("scale-down-delay", "10s "),
            ("scale-to-zero-pod-retention-period", " 1m"),
        ] {
            let e = parse(&[(k, v)]).unwrap_err();
            assert_eq!(e[0].rule, format!("invalid value: {v}"), "{k}");
        }
        // Other prefixes are none of our business.
        let mut m = ann(&[]);
        m.insert("example.com/owner".into(), "me".into());
        assert!(RevisionAnnotations::parse(&m, &AutoscalerConfig::default()).is_ok());
    }

    #[test]
    fn serving_durations() {
        let mut m = BTreeMap::new();
        m.insert(PROGRESS_DEADLINE_KEY.to_string(), "120s".to_string());
        m.insert(
            "serving.knative.dev/rolloutDuration".to_string(),
            "5m".to_string(),
        );
        let a = RevisionAnnotations::parse(&m, &AutoscalerConfig::default()).unwrap();
        assert_eq!(a.progress_deadline, Some(SimDuration::from_secs(120)));
        assert_eq!(a.rollout_duration, Some(SimDuration::from_secs(300)));
        m.insert(PROGRESS_DEADLINE_KEY.to_string(), "1.5s".to_string());
        let e = RevisionAnnotations::parse(&m, &AutoscalerConfig::default()).unwrap_err();
        assert_eq!(
            e[0].rule,
            "progress-deadline=1.5s is not at second precision"
        );
    }
}
