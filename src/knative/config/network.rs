//! `config-network`: the rollout-duration key of
//! `knative.dev/networking/pkg/config/config.go`.

use std::collections::BTreeMap;

use super::parser::MapParser;
use crate::knative::error::FieldError;
use crate::knative::gofmt;
use crate::sim::SimDuration;

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
    use crate::knative::config::test_util::map;

    #[test]
    fn network_config() {
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
