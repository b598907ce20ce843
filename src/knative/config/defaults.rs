//! `config-defaults`: the request-model keys of `pkg/apis/config/defaults.go`.

use std::collections::BTreeMap;

use super::parser::MapParser;
use crate::knative::error::FieldError;
use crate::kubernetes::quantity::parse_quantity;
use crate::kubernetes::resources::ContainerResources;

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
    /// `revision-cpu-request`, `revision-memory-request`,
    /// `revision-cpu-limit`, `revision-memory-limit` (all unset by default):
    /// filled into a user container that does not set them.
    pub revision_resources: ContainerResources,
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
            revision_resources: ContainerResources::default(),
        }
    }
}

impl DefaultsConfig {
    /// Keys of `config-defaults` the simulator reads.
    pub const KEYS: &'static [&'static str] = &[
        "container-concurrency",
        "container-concurrency-max-limit",
        "max-revision-timeout-seconds",
        "revision-cpu-limit",
        "revision-cpu-request",
        "revision-idle-timeout-seconds",
        "revision-memory-limit",
        "revision-memory-request",
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
        "revision-ephemeral-storage-limit",
        "revision-ephemeral-storage-request",
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
        let mut errors = p.errors;
        read_revision_resources(m, &mut c.revision_resources, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
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

/// `revision-{cpu,memory}-{request,limit}` as quantities
/// (`pkg/apis/config/defaults.go` parses them with `resource.ParseQuantity`).
fn read_revision_resources(
    m: &BTreeMap<String, String>,
    r: &mut ContainerResources,
    errors: &mut Vec<FieldError>,
) {
    let keys = [
        "revision-cpu-request",
        "revision-memory-request",
        "revision-cpu-limit",
        "revision-memory-limit",
    ];
    for key in keys {
        let Some(v) = m.get(key) else { continue };
        match parse_quantity(v) {
            Ok(q) => match key {
                "revision-cpu-request" => r.requests.cpu_milli = Some(q.milli_value()),
                "revision-memory-request" => r.requests.memory_bytes = Some(q.value()),
                "revision-cpu-limit" => r.limits.cpu_milli = Some(q.milli_value()),
                _ => r.limits.memory_bytes = Some(q.value()),
            },
            Err(e) => errors.push(FieldError::new(key, e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knative::config::test_util::map;

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
}
