//! The cluster-wide ConfigMaps that shape autoscaling: `config-autoscaler`
//! (port of `pkg/autoscaler/config/config.go`), `config-defaults`
//! (`pkg/apis/config/defaults.go`), `config-deployment`
//! (`pkg/deployment/config.go`) and the one key of `config-network`
//! (`knative.dev/networking/pkg/config/config.go`) the simulator uses.
//!
//! Values arrive as strings, exactly as in a ConfigMap's `data`, and parse
//! as Knative parses them (`strconv`/`time.ParseDuration` grammar). Unlike
//! Knative, unknown keys are rejected: in a simulator input a misspelt key is
//! far more likely a mistake than a setting for some other component. The
//! `_example` key every shipped ConfigMap carries is ignored.

use std::collections::BTreeMap;

use super::error::FieldError;
use super::gofmt;
/// Go's `time.ParseDuration`, as Knative reads ConfigMaps and annotations:
/// the text exactly as written (no surrounding spaces).
pub(crate) use super::gofmt::parse_duration as parse_knative_duration;
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

/// Key present in every ConfigMap Knative ships, holding documentation only.
const EXAMPLE_KEY: &str = "_example";

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

/// Collects parse errors for one ConfigMap so every bad key is reported.
struct MapParser<'a> {
    map: &'a BTreeMap<String, String>,
    errors: Vec<FieldError>,
}

impl<'a> MapParser<'a> {
    fn new(map: &'a BTreeMap<String, String>, known: &[&str], cm_name: &str) -> Self {
        let mut errors = Vec::new();
        for key in map.keys() {
            if key != EXAMPLE_KEY && !known.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    key.clone(),
                    format!(
                        "unknown {cm_name} key; valid keys are: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        MapParser { map, errors }
    }

    fn fail(&mut self, key: &str, what: &str, raw: &str) {
        self.errors.push(FieldError::new(
            key,
            format!("failed to parse {key:?}: {raw:?} is not a valid {what}"),
        ));
    }

    fn bool(&mut self, key: &str, target: &mut bool) {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_bool(raw) {
                Some(v) => *target = v,
                None => self.fail(key, "boolean", raw),
            }
        }
    }

    fn float(&mut self, key: &str, target: &mut f64) {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_float(raw) {
                Some(v) => *target = v,
                None => self.fail(key, "float", raw),
            }
        }
    }

    fn i32(&mut self, key: &str, target: &mut i32) {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_i32(raw) {
                Ok(v) => *target = v,
                Err(_) => self.fail(key, "32-bit integer", raw),
            }
        }
    }

    fn i64(&mut self, key: &str, target: &mut i64) -> bool {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_i64(raw) {
                Ok(v) => {
                    *target = v;
                    return true;
                }
                Err(_) => self.fail(key, "64-bit integer", raw),
            }
        }
        false
    }

    fn duration(&mut self, key: &str, target: &mut SimDuration) {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_duration(raw) {
                Ok(v) => *target = v,
                Err(e) => self.errors.push(FieldError::new(
                    key,
                    format!("failed to parse {key:?}: {e}"),
                )),
            }
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

/// The `config-defaults` ConfigMap (request-model defaults for revisions).
#[derive(Clone, Debug, PartialEq)]
pub struct DefaultsConfig {
    /// `revision-timeout-seconds` (default 300).
    pub revision_timeout_seconds: i64,
    /// `max-revision-timeout-seconds` (default 600).
    pub max_revision_timeout_seconds: i64,
    /// `revision-response-start-timeout-seconds`; `None` when unset, which in
    /// Knative means "equal to the revision timeout", i.e. no separate limit.
    pub revision_response_start_timeout_seconds: Option<i64>,
    /// `revision-idle-timeout-seconds` (default 0 = none).
    pub revision_idle_timeout_seconds: i64,
    /// `container-concurrency` (default 0 = unlimited).
    pub container_concurrency: i64,
    /// `container-concurrency-max-limit` (default 1000).
    pub container_concurrency_max_limit: i64,
}

impl Default for DefaultsConfig {
    /// Knative's `defaultDefaultsConfig()`.
    fn default() -> Self {
        DefaultsConfig {
            revision_timeout_seconds: 300,
            max_revision_timeout_seconds: 600,
            revision_response_start_timeout_seconds: None,
            revision_idle_timeout_seconds: 0,
            container_concurrency: 0,
            container_concurrency_max_limit: 1000,
        }
    }
}

impl DefaultsConfig {
    /// Keys of `config-defaults` the simulator reads.
    pub const KEYS: &'static [&'static str] = &[
        "container-concurrency",
        "container-concurrency-max-limit",
        "max-revision-timeout-seconds",
        "revision-idle-timeout-seconds",
        "revision-response-start-timeout-seconds",
        "revision-timeout-seconds",
    ];

    /// Real `config-defaults` keys that have no effect in the simulator and
    /// are accepted and ignored.
    pub const IGNORED_KEYS: &'static [&'static str] = &[
        "allow-container-concurrency-zero",
        "container-name-template",
        "enable-service-links",
        "init-container-name-template",
        "revision-cpu-limit",
        "revision-cpu-request",
        "revision-ephemeral-storage-limit",
        "revision-ephemeral-storage-request",
        "revision-memory-limit",
        "revision-memory-request",
    ];

    /// Parses and validates as `NewDefaultsConfigFromMap` does.
    pub fn from_map(m: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let known: Vec<&str> = Self::KEYS
            .iter()
            .chain(Self::IGNORED_KEYS)
            .copied()
            .collect();
        let mut c = DefaultsConfig::default();
        let mut p = MapParser::new(m, &known, "config-defaults");
        p.i64("revision-timeout-seconds", &mut c.revision_timeout_seconds);
        p.i64(
            "max-revision-timeout-seconds",
            &mut c.max_revision_timeout_seconds,
        );
        p.i64(
            "revision-idle-timeout-seconds",
            &mut c.revision_idle_timeout_seconds,
        );
        p.i64("container-concurrency", &mut c.container_concurrency);
        p.i64(
            "container-concurrency-max-limit",
            &mut c.container_concurrency_max_limit,
        );
        let mut rst = 0;
        if p.i64("revision-response-start-timeout-seconds", &mut rst) {
            c.revision_response_start_timeout_seconds = Some(rst);
        }
        if !p.errors.is_empty() {
            return Err(p.errors);
        }
        let mut e = Vec::new();
        if c.revision_timeout_seconds > c.max_revision_timeout_seconds {
            e.push(FieldError::new(
                "revision-timeout-seconds",
                format!(
                    "revision-timeout-seconds ({}) cannot be greater than max-revision-timeout-seconds ({})",
                    c.revision_timeout_seconds, c.max_revision_timeout_seconds
                ),
            ));
        }
        if let Some(rst) = c.revision_response_start_timeout_seconds {
            if rst > 0 && rst > c.revision_timeout_seconds {
                e.push(FieldError::new(
                    "revision-response-start-timeout-seconds",
                    format!(
                        "revision-response-start-timeout-seconds ({rst}) cannot be greater than revision-timeout-seconds ({})",
                        c.revision_timeout_seconds
                    ),
                ));
            }
        }
        if c.revision_idle_timeout_seconds > 0
            && c.revision_idle_timeout_seconds > c.revision_timeout_seconds
        {
            e.push(FieldError::new(
                "revision-idle-timeout-seconds",
                format!(
                    "revision-idle-timeout-seconds ({}) cannot be greater than revision-timeout-seconds ({})",
                    c.revision_idle_timeout_seconds, c.revision_timeout_seconds
                ),
            ));
        }
        if c.container_concurrency_max_limit < 1 {
            e.push(FieldError::new(
                "container-concurrency-max-limit",
                format!(
                    "expected 1 <= {} <= {}",
                    c.container_concurrency_max_limit,
                    i32::MAX
                ),
            ));
        } else if c.container_concurrency < 0
            || c.container_concurrency > c.container_concurrency_max_limit
        {
            e.push(FieldError::new(
                "container-concurrency",
                format!(
                    "expected 0 <= {} <= {}",
                    c.container_concurrency, c.container_concurrency_max_limit
                ),
            ));
        }
        if e.is_empty() {
            Ok(c)
        } else {
            Err(e)
        }
    }
}

/// The `config-deployment` ConfigMap; only the progress deadline matters to
/// autoscaling (it bounds activation, §4.3).
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentConfig {
    /// `progress-deadline` (default 600 s).
    pub progress_deadline: SimDuration,
}

impl Default for DeploymentConfig {
    fn default() -> Self {
        DeploymentConfig {
            progress_deadline: SimDuration::from_secs(600),
        }
    }
}

impl DeploymentConfig {
    /// Keys of `config-deployment` the simulator reads.
    pub const KEYS: &'static [&'static str] = &["progress-deadline"];

    /// Real `config-deployment` keys that are accepted and ignored.
    pub const IGNORED_KEYS: &'static [&'static str] = &[
        "default-affinity-type",
        "digest-resolution-timeout",
        "pod-is-always-schedulable",
        "queue-sidecar-cpu-limit",
        "queue-sidecar-cpu-request",
        "queue-sidecar-ephemeral-storage-limit",
        "queue-sidecar-ephemeral-storage-request",
        "queue-sidecar-image",
        "queue-sidecar-memory-limit",
        "queue-sidecar-memory-request",
        "queue-sidecar-rootca",
        "queue-sidecar-token-audiences",
        "registries-skipping-tag-resolving",
        "runtime-class-name",
    ];

    /// Parses `progress-deadline` as a Go duration; it must be positive and a
    /// whole number of seconds, as Knative requires.
    pub fn from_map(m: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let known: Vec<&str> = Self::KEYS
            .iter()
            .chain(Self::IGNORED_KEYS)
            .copied()
            .collect();
        let mut c = DeploymentConfig::default();
        let mut p = MapParser::new(m, &known, "config-deployment");
        p.duration("progress-deadline", &mut c.progress_deadline);
        let mut e = p.errors;
        if e.is_empty() {
            if c.progress_deadline == SimDuration::ZERO {
                e.push(FieldError::new(
                    "progress-deadline",
                    format!(
                        "progress-deadline cannot be a non-positive duration, was {}",
                        gofmt::duration(c.progress_deadline)
                    ),
                ));
            } else if !c.progress_deadline.is_whole_seconds() {
                e.push(FieldError::new(
                    "progress-deadline",
                    format!(
                        "progress-deadline must be rounded to a whole second, was: {}",
                        gofmt::duration(c.progress_deadline)
                    ),
                ));
            }
        }
        if e.is_empty() {
            Ok(c)
        } else {
            Err(e)
        }
    }
}

/// The `config-network` ConfigMap; only the gradual-rollout duration matters
/// to the simulator.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NetworkConfig {
    /// `rollout-duration` (default 0 = traffic shifts at once).
    pub rollout_duration: SimDuration,
}

impl NetworkConfig {
    /// Keys of `config-network` the simulator reads (`rolloutDuration` is the
    /// legacy spelling; the kebab-case key wins when both are set).
    pub const KEYS: &'static [&'static str] = &["rollout-duration", "rolloutDuration"];

    /// Real `config-network` keys (current and legacy) accepted and ignored.
    pub const IGNORED_KEYS: &'static [&'static str] = &[
        "auto-tls",
        "autocreate-cluster-domain-claims",
        "autocreateClusterDomainClaims",
        "certificate-class",
        "certificate.class",
        "cluster-local-domain-tls",
        "default-external-scheme",
        "defaultExternalScheme",
        "domain-template",
        "domainTemplate",
        "enable-mesh-pod-addressability",
        "external-domain-tls",
        "http-protocol",
        "ingress-class",
        "ingress.class",
        "internal-encryption",
        "mesh-compatibility-mode",
        "namespace-wildcard-cert-selector",
        "system-internal-tls",
        "tag-template",
        "tagTemplate",
    ];

    /// Parses `rollout-duration`. Knative reads this key as an integer number
    /// of seconds (`cm.AsInt`), not as a Go duration, so `"120"` is valid and
    /// `"2m"` is not.
    pub fn from_map(m: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let known: Vec<&str> = Self::KEYS
            .iter()
            .chain(Self::IGNORED_KEYS)
            .copied()
            .collect();
        let mut p = MapParser::new(m, &known, "config-network");
        let mut secs: i64 = 0;
        for key in ["rolloutDuration", "rollout-duration"] {
            if let Some(raw) = m.get(key) {
                match gofmt::parse_i64(raw) {
                    Ok(v) => secs = v,
                    Err(_) => p.errors.push(FieldError::new(
                        key,
                        format!(
                            "failed to parse {key:?}: {raw:?} is not an integer number of seconds \
                             (config-network takes e.g. \"120\", not a Go duration)"
                        ),
                    )),
                }
            }
        }
        let mut e = p.errors;
        if e.is_empty() && secs < 0 {
            e.push(FieldError::new(
                "rollout-duration",
                format!("rollout-duration must be a positive integer, but was {secs}"),
            ));
        }
        if e.is_empty() {
            Ok(NetworkConfig {
                // Saturates: Knative allows any int64 of seconds.
                rollout_duration: SimDuration::from_secs_f64(secs as f64),
            })
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

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

    #[test]
    fn defaults_config() {
        let c = DefaultsConfig::from_map(&BTreeMap::new()).unwrap();
        assert_eq!(c, DefaultsConfig::default());
        let c = DefaultsConfig::from_map(&map(&[
            ("container-concurrency", "10"),
            ("revision-timeout-seconds", "120"),
            ("enable-service-links", "false"),
        ]))
        .unwrap();
        assert_eq!(c.container_concurrency, 10);
        assert_eq!(c.revision_timeout_seconds, 120);
        let e = DefaultsConfig::from_map(&map(&[("container-concurrency", "1001")])).unwrap_err();
        assert_eq!(e[0].path, "container-concurrency");
        assert_eq!(e[0].rule, "expected 0 <= 1001 <= 1000");
        let e = DefaultsConfig::from_map(&map(&[("revision-timeout-seconds", "700")])).unwrap_err();
        assert!(e[0]
            .rule
            .contains("cannot be greater than max-revision-timeout-seconds (600)"));
        assert!(DefaultsConfig::from_map(&map(&[("container-concurency", "1")])).is_err());
    }

    #[test]
    fn deployment_and_network_configs() {
        assert_eq!(
            DeploymentConfig::from_map(&BTreeMap::new())
                .unwrap()
                .progress_deadline,
            SimDuration::from_secs(600)
        );
        let c = DeploymentConfig::from_map(&map(&[
            ("progress-deadline", "2m"),
            ("queue-sidecar-image", "gcr.io/x/queue"),
        ]))
        .unwrap();
        assert_eq!(c.progress_deadline, SimDuration::from_secs(120));
        assert!(DeploymentConfig::from_map(&map(&[("progress-deadline", "0s")])).is_err());
        assert!(DeploymentConfig::from_map(&map(&[("progress-deadline", "1.5s")])).is_err());
        assert!(DeploymentConfig::from_map(&map(&[("progres-deadline", "1s")])).is_err());

        assert_eq!(
            NetworkConfig::from_map(&BTreeMap::new()).unwrap(),
            NetworkConfig::default()
        );
        let c = NetworkConfig::from_map(&map(&[
            ("rollout-duration", "120"),
            ("rolloutDuration", "5"),
            ("domain-template", "{{.Name}}.{{.Namespace}}.{{.Domain}}"),
        ]))
        .unwrap();
        assert_eq!(c.rollout_duration, SimDuration::from_secs(120));
        assert!(NetworkConfig::from_map(&map(&[("rollout-duration", "2m")])).is_err());
        assert!(NetworkConfig::from_map(&map(&[("rollout-duration", "-1")])).is_err());
    }
}
