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

mod autoscaler;
mod defaults;
mod deployment;
mod network;
mod parser;

pub use autoscaler::{
    AutoscalerClass, AutoscalerConfig, BUCKET_SIZE, HPA_CLASS, KPA_CLASS,
    PANIC_THRESHOLD_PERCENTAGE_MAX, PANIC_THRESHOLD_PERCENTAGE_MIN, PANIC_WINDOW_PERCENTAGE_MAX,
    PANIC_WINDOW_PERCENTAGE_MIN, TARGET_MIN, WINDOW_MAX, WINDOW_MIN,
};
pub use defaults::DefaultsConfig;
pub use deployment::DeploymentConfig;
pub use network::NetworkConfig;

/// Go's `time.ParseDuration`, as Knative reads ConfigMaps and annotations:
/// the text exactly as written (no surrounding spaces).
pub(crate) use super::gofmt::parse_duration as parse_knative_duration;

#[cfg(test)]
mod test_util {
    use std::collections::BTreeMap;

    pub(super) fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}
