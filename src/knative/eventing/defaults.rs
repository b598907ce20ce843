//! `config-br-defaults` (`pkg/apis/config/defaults.go`, shipped value in
//! `config/core/configmaps/default-broker.yaml`): the key
//! `default-br-config` holds YAML with a `clusterDefault` and per-namespace
//! `namespaceDefaults`, each with a default Broker class, an inline Broker
//! config (channel reference and `delivery`) and per-class `brokerClasses`.
//! `Defaults.GetBrokerConfig` picks the config a Broker is defaulted from;
//! only its `delivery` matters to the model.

use super::DeliverySpec;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The ConfigMap's name.
pub const CONFIG_MAP: &str = "config-br-defaults";
/// The data key holding the defaults.
pub const DATA_KEY: &str = "default-br-config";
/// The annotation naming a Broker's class.
pub const CLASS_ANNOTATION: &str = "eventing.knative.dev/broker.class";

/// A `BrokerConfig`: present when any of its inline fields is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BrokerConfig {
    /// `delivery`, if given.
    pub delivery: Option<DeliverySpec>,
}

/// A `DefaultConfig` (the cluster's or a namespace's).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefaultConfig {
    /// `brokerClass`.
    pub broker_class: String,
    /// The inline Broker config, `None` when none of its fields is set.
    pub config: Option<BrokerConfig>,
    /// `brokerClasses`.
    pub classes: BTreeMap<String, BrokerConfig>,
}

/// The parsed `default-br-config`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BrokerDefaults {
    /// `clusterDefault`.
    pub cluster: Option<DefaultConfig>,
    /// `namespaceDefaults`.
    pub namespaces: BTreeMap<String, DefaultConfig>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawDefaults {
    cluster_default: Option<RawDefaultConfig>,
    #[serde(default)]
    namespace_defaults: BTreeMap<String, Option<RawDefaultConfig>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawDefaultConfig {
    #[serde(default)]
    broker_class: String,
    #[serde(flatten)]
    config: RawBrokerConfig,
    #[serde(default)]
    broker_classes: BTreeMap<String, Option<RawBrokerConfig>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawBrokerConfig {
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    delivery: Option<RawDelivery>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawDelivery {
    retry: Option<i64>,
    backoff_policy: Option<String>,
    backoff_delay: Option<String>,
    timeout: Option<String>,
    dead_letter_sink: Option<serde_json::Value>,
}

impl RawBrokerConfig {
    fn build(self) -> Option<BrokerConfig> {
        let any = self.api_version.is_some()
            || self.kind.is_some()
            || self.name.is_some()
            || self.namespace.is_some()
            || self.delivery.is_some();
        any.then(|| BrokerConfig {
            delivery: self.delivery.map(|d| DeliverySpec {
                retry: d.retry,
                backoff_policy: d.backoff_policy,
                backoff_delay: d.backoff_delay,
                timeout: d.timeout,
                dead_letter_sink: d.dead_letter_sink.map(|v| sink_name(&v)),
            }),
        })
    }
}

impl RawDefaultConfig {
    fn build(self) -> DefaultConfig {
        DefaultConfig {
            broker_class: self.broker_class,
            config: self.config.build(),
            classes: self
                .broker_classes
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?.build()?)))
                .collect(),
        }
    }
}

/// A dead-letter sink's name for the model: the text of a string, else the
/// compact JSON of the Destination.
pub fn sink_name(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl BrokerDefaults {
    /// The shipped ConfigMap: cluster default class `MTChannelBasedBroker`
    /// with retry 10, exponential, `PT0.2S`.
    pub fn shipped() -> Self {
        BrokerDefaults {
            cluster: Some(DefaultConfig {
                broker_class: "MTChannelBasedBroker".into(),
                config: Some(BrokerConfig {
                    delivery: Some(DeliverySpec::broker_default()),
                }),
                classes: BTreeMap::new(),
            }),
            namespaces: BTreeMap::new(),
        }
    }

    /// Parses the YAML text of `default-br-config`. Unknown keys are ignored,
    /// as the Go unmarshalling does.
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: serde_json::Value =
            serde_yaml_ng::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
        if v.is_null() {
            return Ok(BrokerDefaults::default());
        }
        let raw: RawDefaults = serde_path_to_error::deserialize(&v)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        Ok(BrokerDefaults {
            cluster: raw.cluster_default.map(RawDefaultConfig::build),
            namespaces: raw
                .namespace_defaults
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?.build())))
                .collect(),
        })
    }

    /// `Defaults.GetBrokerConfig(ns, class)`: the config a Broker of class
    /// `class` (empty = unset) in `ns` is defaulted from; `None` when the
    /// cluster has no default (the Broker is then not defaulted).
    pub fn broker_config(&self, ns: &str, class: &str) -> Option<&BrokerConfig> {
        let nsc = self.namespaces.get(ns);
        if class.is_empty() {
            if let Some(n) = nsc.filter(|n| !n.broker_class.is_empty()) {
                return self.by_class(ns, &n.broker_class);
            }
            return self.cluster_config("");
        }
        self.by_class(ns, class)
    }

    fn by_class(&self, ns: &str, class: &str) -> Option<&BrokerConfig> {
        if let Some(n) = self.namespaces.get(ns) {
            if let Some(c) = n.classes.get(class) {
                return Some(c);
            }
            if n.broker_class == class {
                if let Some(c) = &n.config {
                    return Some(c);
                }
            }
        }
        self.cluster_config(class)
    }

    fn cluster_config(&self, class: &str) -> Option<&BrokerConfig> {
        let c = self.cluster.as_ref()?;
        let own = c.config.as_ref()?;
        Some(c.classes.get(class).unwrap_or(own))
    }

    /// The delivery a Broker admitted without `delivery` is given (all
    /// fields unset when the looked-up config has none).
    pub fn default_delivery(&self, ns: &str, class: &str) -> DeliverySpec {
        self.broker_config(ns, class)
            .and_then(|c| c.delivery.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `default-br-config` text of the shipped ConfigMap.
    const SHIPPED: &str = "clusterDefault:\n  brokerClass: MTChannelBasedBroker\n  apiVersion: v1\n  kind: ConfigMap\n  name: config-br-default-channel\n  namespace: knative-eventing\n  delivery:\n    retry: 10\n    backoffPolicy: exponential\n    backoffDelay: PT0.2S\n";

    #[test]
    fn the_shipped_text_is_the_shipped_default() {
        let d = BrokerDefaults::parse(SHIPPED).unwrap();
        assert_eq!(d, BrokerDefaults::shipped());
        assert_eq!(
            d.default_delivery("default", ""),
            DeliverySpec {
                retry: Some(10),
                backoff_policy: Some("exponential".into()),
                backoff_delay: Some("PT0.2S".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn lookup_follows_namespace_then_class_then_cluster() {
        let text = "clusterDefault:\n  brokerClass: MTChannelBasedBroker\n  delivery: {retry: 1}\n  brokerClasses:\n    Kafka:\n      delivery: {retry: 2}\nnamespaceDefaults:\n  shop:\n    brokerClass: MTChannelBasedBroker\n    delivery: {retry: 3}\n  blank:\n    brokerClasses:\n      Kafka:\n        delivery: {retry: 4}\n";
        let d = BrokerDefaults::parse(text).unwrap();
        let retry = |ns: &str, class: &str| d.default_delivery(ns, class).retry;
        assert_eq!(retry("default", ""), Some(1));
        assert_eq!(retry("default", "Kafka"), Some(2));
        // Another class falls back to the cluster's own config.
        assert_eq!(retry("default", "Other"), Some(1));
        // The namespace's default class uses the namespace's own config.
        assert_eq!(retry("shop", ""), Some(3));
        assert_eq!(retry("shop", "MTChannelBasedBroker"), Some(3));
        assert_eq!(retry("shop", "Kafka"), Some(2));
        assert_eq!(retry("blank", "Kafka"), Some(4));
        assert_eq!(retry("blank", ""), Some(1));
    }

    #[test]
    fn no_cluster_default_means_no_defaulting() {
        let d = BrokerDefaults::parse("namespaceDefaults: {}\n").unwrap();
        assert_eq!(d.default_delivery("default", ""), DeliverySpec::default());
        let d = BrokerDefaults::parse("clusterDefault:\n  brokerClass: X\n").unwrap();
        assert_eq!(d.broker_config("default", ""), None);
    }

    #[test]
    fn bad_text_names_the_problem() {
        let e =
            BrokerDefaults::parse("clusterDefault:\n  delivery:\n    retry: many\n").unwrap_err();
        assert!(
            e.contains("clusterDefault") && e.contains("\"many\""),
            "{e}"
        );
    }
}
