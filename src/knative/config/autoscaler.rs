//! `config-autoscaler`: port of `pkg/autoscaler/config/config.go` (defaults,
//! parsing and validation), with the autoscaling constants of
//! `pkg/apis/autoscaling/register.go`.

use std::collections::BTreeMap;

use super::parser::MapParser;
use crate::knative::error::FieldError;
use crate::knative::gofmt;
use crate::sim::SimDuration;

/// `TargetMin` in `pkg/apis/autoscaling/register.go`: the smallest per-pod
/// target any configuration may yield.
pub const TARGET_MIN: f64 = 0.01;
/// `WindowMin`: the shortest stable window.
pub const WINDOW_MIN: SimDuration = SimDuration::from_secs(6);
/// `WindowMax`: the longest stable window (also the cap for delays).
pub const WINDOW_MAX: SimDuration = SimDuration::from_secs(3600);
/// `PanicWindowPercentageMin`.
pub const PANIC_WINDOW_PERCENTAGE_MIN: f64 = 1.0;
/// `PanicWindowPercentageMax`.
pub const PANIC_WINDOW_PERCENTAGE_MAX: f64 = 100.0;
/// `PanicThresholdPercentageMin` (only enforced on the annotation).
pub const PANIC_THRESHOLD_PERCENTAGE_MIN: f64 = 110.0;
/// `PanicThresholdPercentageMax` (only enforced on the annotation).
pub const PANIC_THRESHOLD_PERCENTAGE_MAX: f64 = 1000.0;
/// The KPA class name.
pub const KPA_CLASS: &str = "kpa.autoscaling.knative.dev";
/// The HPA class name (a Kubernetes HorizontalPodAutoscaler scales the
/// revision; see [`crate::knative::hpa`]).
pub const HPA_CLASS: &str = "hpa.autoscaling.knative.dev";
/// The autoscaler classes the simulator knows. Knative itself accepts any
/// class name (another autoscaler may claim it); the simulator says so for
/// any class other than these two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoscalerClass {
    /// `kpa.autoscaling.knative.dev`: Knative's own Pod Autoscaler.
    Kpa,
    /// `hpa.autoscaling.knative.dev`: a Kubernetes HPA on CPU or memory.
    Hpa,
}

impl AutoscalerClass {
    /// The class of a class name, or why it is not modelled.
    pub fn parse(name: &str) -> Result<AutoscalerClass, String> {
        match name {
            KPA_CLASS => Ok(AutoscalerClass::Kpa),
            HPA_CLASS => Ok(AutoscalerClass::Hpa),
            other => Err(format!(
                "autoscaler class {other:?} is not modelled; only kpa.autoscaling.knative.dev \
                 and hpa.autoscaling.knative.dev are"
            )),
        }
    }

    /// The class name Knative uses.
    pub fn name(self) -> &'static str {
        match self {
            AutoscalerClass::Kpa => KPA_CLASS,
            AutoscalerClass::Hpa => HPA_CLASS,
        }
    }
}

/// `config.BucketSize`: granularity of every metric bucket.
pub const BUCKET_SIZE: SimDuration = SimDuration::from_secs(1);

/// The `config-autoscaler` ConfigMap, parsed and validated.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerConfig {
    /// `enable-scale-to-zero` (default true).
    pub enable_scale_to_zero: bool,
    /// `container-concurrency-target-percentage` as a fraction (default 0.7).
    pub container_concurrency_target_fraction: f64,
    /// `container-concurrency-target-default` (default 100).
    pub container_concurrency_target_default: f64,
    /// `requests-per-second-target-default` (default 200).
    pub rps_target_default: f64,
    /// Utilization for the RPS metric; fixed at 0.7, not a ConfigMap key.
    pub target_utilization: f64,
    /// `target-burst-capacity` (default 211; -1 = unlimited).
    pub target_burst_capacity: f64,
    /// `stable-window` (default 60 s).
    pub stable_window: SimDuration,
    /// `panic-window-percentage` (default 10).
    pub panic_window_percentage: f64,
    /// `panic-threshold-percentage` (default 200).
    pub panic_threshold_percentage: f64,
    /// `max-scale-up-rate` (default 1000).
    pub max_scale_up_rate: f64,
    /// `max-scale-down-rate` (default 2).
    pub max_scale_down_rate: f64,
    /// `activator-capacity` (default 100).
    pub activator_capacity: f64,
    /// `scale-to-zero-grace-period` (default 30 s).
    pub scale_to_zero_grace_period: SimDuration,
    /// `scale-to-zero-pod-retention-period` (default 0 s).
    pub scale_to_zero_pod_retention_period: SimDuration,
    /// `scale-down-delay` (default 0 s).
    pub scale_down_delay: SimDuration,
    /// `initial-scale` (default 1).
    pub initial_scale: i32,
    /// `allow-zero-initial-scale` (default false).
    pub allow_zero_initial_scale: bool,
    /// `min-scale` (default 0).
    pub min_scale: i32,
    /// `max-scale` (default 0 = unlimited).
    pub max_scale: i32,
    /// `max-scale-limit` (default 0 = none).
    pub max_scale_limit: i32,
    /// `pod-autoscaler-class` (default the KPA class, the only one modelled).
    pub pod_autoscaler_class: AutoscalerClass,
}

impl Default for AutoscalerConfig {
    /// Knative's `defaultConfig()`.
    fn default() -> Self {
        AutoscalerConfig {
            enable_scale_to_zero: true,
            container_concurrency_target_fraction: 0.7,
            container_concurrency_target_default: 100.0,
            rps_target_default: 200.0,
            target_utilization: 0.7,
            target_burst_capacity: 211.0,
            stable_window: SimDuration::from_secs(60),
            panic_window_percentage: 10.0,
            panic_threshold_percentage: 200.0,
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
            activator_capacity: 100.0,
            scale_to_zero_grace_period: SimDuration::from_secs(30),
            scale_to_zero_pod_retention_period: SimDuration::ZERO,
            scale_down_delay: SimDuration::ZERO,
            initial_scale: 1,
            allow_zero_initial_scale: false,
            min_scale: 0,
            max_scale: 0,
            max_scale_limit: 0,
            pod_autoscaler_class: AutoscalerClass::Kpa,
        }
    }
}

impl AutoscalerConfig {
    /// Every key of `config-autoscaler`.
    pub const KEYS: &'static [&'static str] = &[
        "activator-capacity",
        "allow-zero-initial-scale",
        "container-concurrency-target-default",
        "container-concurrency-target-percentage",
        "enable-scale-to-zero",
        "initial-scale",
        "max-scale",
        "max-scale-down-rate",
        "max-scale-limit",
        "max-scale-up-rate",
        "min-scale",
        "panic-threshold-percentage",
        "panic-window-percentage",
        "pod-autoscaler-class",
        "requests-per-second-target-default",
        "scale-down-delay",
        "scale-to-zero-grace-period",
        "scale-to-zero-pod-retention-period",
        "stable-window",
        "target-burst-capacity",
    ];

    /// Keys are the config-autoscaler keys (`stable-window`, ...). Unknown
    /// keys are errors. Returns every error, path = the key name. Parsing
    /// follows `NewConfigFromMap`: a `container-concurrency-target-percentage`
    /// above 1 is a percentage and is divided by 100, then `validate()` runs.
    pub fn from_map(m: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let mut c = AutoscalerConfig::default();
        let mut p = MapParser::new(m, Self::KEYS, "config-autoscaler");
        if let Some(raw) = m.get("pod-autoscaler-class") {
            match AutoscalerClass::parse(raw.trim()) {
                // A cluster-wide HPA default would turn every revision into
                // an HPA one, including ones whose annotations only make
                // sense for the KPA; the simulator takes the class per
                // revision instead.
                Ok(AutoscalerClass::Hpa) => p.errors.push(FieldError::new(
                    "pod-autoscaler-class",
                    "the HPA class as the cluster-wide default is not modelled; set \
                     autoscaling.knative.dev/class: hpa.autoscaling.knative.dev on the revision",
                )),
                Ok(class) => c.pod_autoscaler_class = class,
                Err(rule) => p.errors.push(FieldError::new("pod-autoscaler-class", rule)),
            }
        }
        p.bool("enable-scale-to-zero", &mut c.enable_scale_to_zero);
        p.bool("allow-zero-initial-scale", &mut c.allow_zero_initial_scale);
        p.float("max-scale-up-rate", &mut c.max_scale_up_rate);
        p.float("max-scale-down-rate", &mut c.max_scale_down_rate);
        p.float(
            "container-concurrency-target-percentage",
            &mut c.container_concurrency_target_fraction,
        );
        p.float(
            "container-concurrency-target-default",
            &mut c.container_concurrency_target_default,
        );
        p.float(
            "requests-per-second-target-default",
            &mut c.rps_target_default,
        );
        p.float("target-burst-capacity", &mut c.target_burst_capacity);
        p.float("panic-window-percentage", &mut c.panic_window_percentage);
        p.float("activator-capacity", &mut c.activator_capacity);
        p.float(
            "panic-threshold-percentage",
            &mut c.panic_threshold_percentage,
        );
        p.i32("initial-scale", &mut c.initial_scale);
        p.i32("min-scale", &mut c.min_scale);
        p.i32("max-scale", &mut c.max_scale);
        p.i32("max-scale-limit", &mut c.max_scale_limit);
        p.duration("stable-window", &mut c.stable_window);
        p.duration("scale-down-delay", &mut c.scale_down_delay);
        p.duration(
            "scale-to-zero-grace-period",
            &mut c.scale_to_zero_grace_period,
        );
        p.duration(
            "scale-to-zero-pod-retention-period",
            &mut c.scale_to_zero_pod_retention_period,
        );
        if !p.errors.is_empty() {
            return Err(p.errors);
        }
        // Legacy configs give a fraction in (0, 1]; anything larger is a
        // percentage.
        if c.container_concurrency_target_fraction > 1.0 {
            c.container_concurrency_target_fraction /= 100.0;
        }
        let errors = c.validate();
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(errors)
        }
    }

    /// Knative's `validate()` rules with Knative's error texts. Knative stops
    /// at the first broken rule; this reports all of them, in Knative's order.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let mut err = |k: &str, msg: String| e.push(FieldError::new(k, msg));
        let d = gofmt::duration;
        if self.scale_to_zero_grace_period == SimDuration::ZERO {
            err(
                "scale-to-zero-grace-period",
                format!(
                    "scale-to-zero-grace-period must be positive, was: {}",
                    d(self.scale_to_zero_grace_period)
                ),
            );
        }
        if !self.scale_down_delay.is_whole_seconds() {
            err(
                "scale-down-delay",
                format!(
                    "scale-down-delay = {}, must be specified with at most second precision",
                    d(self.scale_down_delay)
                ),
            );
        }
        if self.target_burst_capacity < 0.0 && self.target_burst_capacity != -1.0
            || self.target_burst_capacity.is_nan()
        {
            err(
                "target-burst-capacity",
                format!(
                    "target-burst-capacity must be either non-negative or -1 (for unlimited), was: {:.6}",
                    self.target_burst_capacity
                ),
            );
        }
        let frac = self.container_concurrency_target_fraction;
        if !(frac > 0.0 && frac <= 1.0) {
            err(
                "container-concurrency-target-percentage",
                format!(
                    "container-concurrency-target-percentage = {frac:.6} is outside of valid range of (0, 100]"
                ),
            );
        }
        let x = frac * self.container_concurrency_target_default;
        if x < TARGET_MIN || x.is_nan() {
            err(
                "container-concurrency-target-default",
                format!(
                    "container-concurrency-target-percentage and container-concurrency-target-default yield target concurrency of {x}, can't be less than {TARGET_MIN}"
                ),
            );
        }
        if self.rps_target_default < TARGET_MIN || self.rps_target_default.is_nan() {
            err(
                "requests-per-second-target-default",
                format!(
                    "requests-per-second-target-default must be at least {TARGET_MIN}, was: {}",
                    self.rps_target_default
                ),
            );
        }
        if self.activator_capacity < 1.0 || self.activator_capacity.is_nan() {
            err(
                "activator-capacity",
                format!(
                    "activator-capacity = {}, must be at least 1",
                    self.activator_capacity
                ),
            );
        }
        if self.max_scale_up_rate <= 1.0 || self.max_scale_up_rate.is_nan() {
            err(
                "max-scale-up-rate",
                format!(
                    "max-scale-up-rate = {}, must be greater than 1.0",
                    self.max_scale_up_rate
                ),
            );
        }
        if self.max_scale_down_rate <= 1.0 || self.max_scale_down_rate.is_nan() {
            err(
                "max-scale-down-rate",
                format!(
                    "max-scale-down-rate = {}, must be greater than 1.0",
                    self.max_scale_down_rate
                ),
            );
        }
        if self.stable_window < WINDOW_MIN || self.stable_window > WINDOW_MAX {
            err(
                "stable-window",
                format!(
                    "stable-window = {}, must be in [{}; {}] range",
                    d(self.stable_window),
                    d(WINDOW_MIN),
                    d(WINDOW_MAX)
                ),
            );
        }
        if !self.stable_window.is_whole_seconds() {
            err(
                "stable-window",
                format!(
                    "stable-window = {}, must be specified with at most second precision",
                    d(self.stable_window)
                ),
            );
        }
        if !(self.panic_window_percentage >= PANIC_WINDOW_PERCENTAGE_MIN
            && self.panic_window_percentage <= PANIC_WINDOW_PERCENTAGE_MAX)
        {
            err(
                "panic-window-percentage",
                format!(
                    "panic-window-percentage = {}, must be in [{PANIC_WINDOW_PERCENTAGE_MIN}, {PANIC_WINDOW_PERCENTAGE_MAX}] interval",
                    self.panic_window_percentage
                ),
            );
        }
        if self.initial_scale < 0 || (self.initial_scale == 0 && !self.allow_zero_initial_scale) {
            err(
                "initial-scale",
                format!(
                    "initial-scale = {}, must be at least 0 (or at least 1 when allow-zero-initial-scale is false)",
                    self.initial_scale
                ),
            );
        }
        if self.min_scale < 0 {
            err(
                "min-scale",
                format!("min-scale = {}, must be at least 0", self.min_scale),
            );
        }
        // A cluster-wide cap requires a finite default.
        let min_max_scale = if self.max_scale_limit > 0 { 1 } else { 0 };
        if self.max_scale < min_max_scale
            || (self.max_scale_limit > 0 && self.max_scale > self.max_scale_limit)
        {
            err(
                "max-scale",
                format!(
                    "max-scale = {}, must be in [{min_max_scale}, max-scale-limit({})] range",
                    self.max_scale, self.max_scale_limit
                ),
            );
        }
        if self.max_scale_limit < 0 {
            err(
                "max-scale-limit",
                format!(
                    "max-scale-limit = {}, must be at least 0",
                    self.max_scale_limit
                ),
            );
        }
        if self.min_scale > self.max_scale && self.max_scale > 0 {
            err(
                "min-scale",
                format!(
                    "min-scale ({}) must be less than max-scale ({})",
                    self.min_scale, self.max_scale
                ),
            );
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knative::config::test_util::map;

    #[test]
    fn durations_with_spaces_are_rejected_as_go_rejects_them() {
        for v in [" 60s", "10s ", "\t5m"] {
            let e = AutoscalerConfig::from_map(&map(&[("stable-window", v)])).unwrap_err();
            let quoted = v.replace('\t', "\\t");
            assert_eq!(
                e[0].rule,
                format!("failed to parse \"stable-window\": time: invalid duration \"{quoted}\"")
            );
        }
        let e = AutoscalerConfig::from_map(&map(&[("scale-to-zero-grace-period", "30s ")]))
            .unwrap_err();
        assert_eq!(e[0].path, "scale-to-zero-grace-period");
    }

    #[test]
    fn only_the_kpa_class_is_modelled() {
        let c = AutoscalerConfig::from_map(&map(&[("pod-autoscaler-class", KPA_CLASS)])).unwrap();
        assert_eq!(c.pod_autoscaler_class, AutoscalerClass::Kpa);
        let e =
            AutoscalerConfig::from_map(&map(&[("pod-autoscaler-class", HPA_CLASS)])).unwrap_err();
        assert_eq!(e[0].path, "pod-autoscaler-class");
        assert!(e[0].rule.contains("HPA class") && e[0].rule.contains("not modelled"));
        let e = AutoscalerConfig::from_map(&map(&[("pod-autoscaler-class", "x.example.com")]))
            .unwrap_err();
        assert!(
            e[0].rule.contains("\"x.example.com\" is not modelled"),
            "{e:?}"
        );
    }

    #[test]
    fn empty_map_gives_knative_defaults() {
        let c = AutoscalerConfig::from_map(&BTreeMap::new()).unwrap();
        assert_eq!(c, AutoscalerConfig::default());
        assert!(c.validate().is_empty());
        assert_eq!(c.container_concurrency_target_fraction, 0.7);
        assert_eq!(c.target_burst_capacity, 211.0);
    }

    #[test]
    fn percentage_above_one_is_divided_by_100() {
        let c =
            AutoscalerConfig::from_map(&map(&[("container-concurrency-target-percentage", "80")]))
                .unwrap();
        assert_eq!(c.container_concurrency_target_fraction, 0.8);
        let c =
            AutoscalerConfig::from_map(&map(&[("container-concurrency-target-percentage", "0.5")]))
                .unwrap();
        assert_eq!(c.container_concurrency_target_fraction, 0.5);
        let c =
            AutoscalerConfig::from_map(&map(&[("container-concurrency-target-percentage", "1")]))
                .unwrap();
        assert_eq!(c.container_concurrency_target_fraction, 1.0);
    }

    #[test]
    fn stable_window_below_6s_is_rejected() {
        let e = AutoscalerConfig::from_map(&map(&[("stable-window", "5s")])).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].path, "stable-window");
        assert_eq!(
            e[0].rule,
            "stable-window = 5s, must be in [6s; 1h0m0s] range"
        );
        let e = AutoscalerConfig::from_map(&map(&[("stable-window", "6500ms")])).unwrap_err();
        assert!(e[0].rule.contains("at most second precision"), "{e:?}");
    }

    #[test]
    fn unknown_and_malformed_keys_are_all_reported() {
        let e = AutoscalerConfig::from_map(&map(&[
            ("stable-windw", "60s"),
            ("max-scale-up-rate", "fast"),
            ("enable-scale-to-zero", "yes"),
            ("_example", "docs"),
        ]))
        .unwrap_err();
        let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["stable-windw", "enable-scale-to-zero", "max-scale-up-rate"]
        );
        assert!(e[0].rule.contains("unknown"));
    }

    #[test]
    fn knative_range_rules() {
        let bad = [
            ("max-scale-up-rate", "1", "max-scale-up-rate = 1, must be greater than 1.0"),
            ("max-scale-down-rate", "0.5", "max-scale-down-rate = 0.5, must be greater than 1.0"),
            ("activator-capacity", "0.5", "activator-capacity = 0.5, must be at least 1"),
            (
                "target-burst-capacity",
                "-2",
                "target-burst-capacity must be either non-negative or -1 (for unlimited), was: -2.000000",
            ),
            ("scale-to-zero-grace-period", "0s", "scale-to-zero-grace-period must be positive, was: 0s"),
            (
                "panic-window-percentage",
                "0.5",
                "panic-window-percentage = 0.5, must be in [1, 100] interval",
            ),
            (
                "initial-scale",
                "0",
                "initial-scale = 0, must be at least 0 (or at least 1 when allow-zero-initial-scale is false)",
            ),
            ("min-scale", "-1", "min-scale = -1, must be at least 0"),
            (
                "requests-per-second-target-default",
                "0.001",
                "requests-per-second-target-default must be at least 0.01, was: 0.001",
            ),
        ];
        for (k, v, msg) in bad {
            let e = AutoscalerConfig::from_map(&map(&[(k, v)])).unwrap_err();
            assert_eq!(e, vec![FieldError::new(k, msg)], "{k}={v}");
        }
        // The ConfigMap's panic threshold has no range check (only the
        // annotation has one).
        assert!(AutoscalerConfig::from_map(&map(&[("panic-threshold-percentage", "100")])).is_ok());
        assert!(AutoscalerConfig::from_map(&map(&[
            ("initial-scale", "0"),
            ("allow-zero-initial-scale", "true")
        ]))
        .is_ok());
    }

    #[test]
    fn min_max_and_limit_rules() {
        let e = AutoscalerConfig::from_map(&map(&[("min-scale", "5"), ("max-scale", "3")]))
            .unwrap_err();
        assert_eq!(
            e,
            vec![FieldError::new(
                "min-scale",
                "min-scale (5) must be less than max-scale (3)"
            )]
        );
        let e = AutoscalerConfig::from_map(&map(&[("max-scale-limit", "10")])).unwrap_err();
        assert_eq!(
            e[0].rule,
            "max-scale = 0, must be in [1, max-scale-limit(10)] range"
        );
        let e = AutoscalerConfig::from_map(&map(&[("max-scale-limit", "10"), ("max-scale", "11")]))
            .unwrap_err();
        assert_eq!(e[0].path, "max-scale");
        assert!(AutoscalerConfig::from_map(&map(&[
            ("max-scale-limit", "10"),
            ("max-scale", "10")
        ]))
        .is_ok());
    }
}
