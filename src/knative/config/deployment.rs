//! `config-deployment`: the progress deadline and the queue-proxy sidecar's
//! resources of `pkg/deployment/config.go`.

use std::collections::BTreeMap;

use super::parser::MapParser;
use crate::knative::error::FieldError;
use crate::knative::gofmt;
use crate::knative::queue_resources::QueueSidecarConfig;
use crate::sim::SimDuration;

/// The `config-deployment` ConfigMap; only the progress deadline matters to
/// autoscaling (it bounds activation, §4.3).
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentConfig {
    /// `progress-deadline` (default 600 s).
    pub progress_deadline: SimDuration,
    /// `queue-sidecar-cpu-request` (default 25m) and the other sidecar
    /// requests and limits (unset by default).
    pub queue_sidecar: QueueSidecarConfig,
}

impl Default for DeploymentConfig {
    fn default() -> Self {
        DeploymentConfig {
            progress_deadline: SimDuration::from_secs(600),
            queue_sidecar: QueueSidecarConfig::default(),
        }
    }
}

impl DeploymentConfig {
    /// Keys of `config-deployment` the simulator reads.
    pub const KEYS: &'static [&'static str] = &[
        "progress-deadline",
        "queue-sidecar-cpu-limit",
        "queue-sidecar-cpu-request",
        "queue-sidecar-memory-limit",
        "queue-sidecar-memory-request",
    ];

    /// Real `config-deployment` keys that are accepted and ignored.
    pub const IGNORED_KEYS: &'static [&'static str] = &[
        "default-affinity-type",
        "digest-resolution-timeout",
        "pod-is-always-schedulable",
        "queue-sidecar-ephemeral-storage-limit",
        "queue-sidecar-ephemeral-storage-request",
        "queue-sidecar-image",
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
        match QueueSidecarConfig::from_map(m) {
            Ok(q) => c.queue_sidecar = q,
            Err(mut qe) => e.append(&mut qe),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knative::config::test_util::map;

    #[test]
    fn deployment_config() {
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
    }
}
