//! Knative Eventing objects in manifests, as `kubectl apply -f` takes them:
//! `eventing.knative.dev/v1` Broker and Trigger, `sources.knative.dev/v1`
//! PingSource, and the `config-br-defaults` ConfigMap of
//! `knative-eventing`. Field names follow `pkg/apis/eventing/v1/
//! {broker,trigger}_types.go`, `pkg/apis/sources/v1/ping_types.go` and
//! `pkg/apis/duck/v1/delivery_types.go`; unknown fields are refused, as the
//! API server does. Rules that need the whole scenario (names of Services
//! and the Broker, delivery values, schedules) are checked where the
//! scenario is built, with the same code as the `[eventing]` table.

use super::{typed, DocLines, DocRef, Manifest, ManifestError};
use crate::knative::eventing::defaults::{
    sink_name, BrokerDefaults, CLASS_ANNOTATION, CONFIG_MAP, DATA_KEY,
};
use crate::knative::eventing::DeliverySpec;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A Broker.
#[derive(Clone, Debug, PartialEq)]
pub struct BrokerManifest {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, if given.
    pub namespace: Option<String>,
    /// The `eventing.knative.dev/broker.class` annotation (empty = unset).
    pub class: String,
    /// `spec.config.kind`: upstream looks the defaults up by this kind
    /// instead of the class when `spec.config` is given.
    pub config_kind: Option<String>,
    /// `spec.delivery`.
    pub delivery: Option<DeliverySpec>,
    /// Origin.
    pub doc: DocRef,
}

/// A Trigger.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerManifest {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, if given.
    pub namespace: Option<String>,
    /// `spec.broker`.
    pub broker: String,
    /// `spec.filter.attributes` (`None` = every event).
    pub filter: Option<BTreeMap<String, String>>,
    /// `spec.subscriber` as written (a Destination).
    pub subscriber: serde_json::Value,
    /// `spec.delivery`.
    pub delivery: Option<DeliverySpec>,
    /// Origin.
    pub doc: DocRef,
}

/// A PingSource.
#[derive(Clone, Debug, PartialEq)]
pub struct PingSourceManifest {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, if given.
    pub namespace: Option<String>,
    /// `spec.schedule` (`None` = the default `* * * * *`).
    pub schedule: Option<String>,
    /// `spec.timezone`.
    pub timezone: Option<String>,
    /// `spec.ceOverrides.extensions`.
    pub extensions: BTreeMap<String, String>,
    /// The Broker `spec.sink.ref` names.
    pub sink_broker: String,
    /// Origin.
    pub doc: DocRef,
}

/// The `config-br-defaults` ConfigMap.
#[derive(Clone, Debug, PartialEq)]
pub struct BrokerDefaultsManifest {
    /// Its parsed `default-br-config`.
    pub defaults: BrokerDefaults,
    /// Origin.
    pub doc: DocRef,
}

/// One Eventing document.
#[derive(Clone, Debug, PartialEq)]
pub enum EventingManifest {
    /// `eventing.knative.dev/v1` Broker.
    Broker(BrokerManifest),
    /// `eventing.knative.dev/v1` Trigger.
    Trigger(TriggerManifest),
    /// `sources.knative.dev/v1` PingSource.
    PingSource(PingSourceManifest),
    /// `config-br-defaults`.
    BrokerDefaults(BrokerDefaultsManifest),
}

impl EventingManifest {
    /// Where it was written.
    pub fn doc(&self) -> &DocRef {
        match self {
            EventingManifest::Broker(b) => &b.doc,
            EventingManifest::Trigger(t) => &t.doc,
            EventingManifest::PingSource(s) => &s.doc,
            EventingManifest::BrokerDefaults(d) => &d.doc,
        }
    }

    /// Where it was written, to rename the file for messages.
    pub fn doc_mut(&mut self) -> &mut DocRef {
        match self {
            EventingManifest::Broker(b) => &mut b.doc,
            EventingManifest::Trigger(t) => &mut t.doc,
            EventingManifest::PingSource(s) => &mut s.doc,
            EventingManifest::BrokerDefaults(d) => &mut d.doc,
        }
    }
}

#[derive(Deserialize, Default)]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawDelivery {
    retry: Option<i64>,
    backoff_policy: Option<String>,
    backoff_delay: Option<String>,
    timeout: Option<String>,
    dead_letter_sink: Option<serde_json::Value>,
    retry_after_max: Option<serde_json::Value>,
    format: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KReference {
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    // Accepted as the API server does; the model has one namespace and
    // resolves the reference itself.
    #[serde(rename = "namespace")]
    _namespace: Option<serde::de::IgnoredAny>,
    #[serde(rename = "address")]
    _address: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct RawBroker {
    metadata: Meta,
    #[serde(default)]
    spec: RawBrokerSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBrokerSpec {
    config: Option<KReference>,
    delivery: Option<RawDelivery>,
}

#[derive(Deserialize)]
struct RawTrigger {
    metadata: Meta,
    #[serde(default)]
    spec: RawTriggerSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTriggerSpec {
    broker: Option<String>,
    broker_ref: Option<serde_json::Value>,
    filter: Option<RawFilter>,
    filters: Option<serde_json::Value>,
    subscriber: Option<serde_json::Value>,
    delivery: Option<RawDelivery>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    attributes: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawPing {
    metadata: Meta,
    #[serde(default)]
    spec: RawPingSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPingSpec {
    schedule: Option<String>,
    timezone: Option<String>,
    // The payload changes no timing the model has.
    #[serde(rename = "contentType")]
    _content_type: Option<serde::de::IgnoredAny>,
    data: Option<String>,
    data_base64: Option<String>,
    sink: Option<RawSink>,
    ce_overrides: Option<RawCeOverrides>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSink {
    #[serde(rename = "ref")]
    reference: Option<KReference>,
    uri: Option<String>,
    // TLS and OIDC settings of the sink: not modelled.
    #[serde(rename = "CACerts")]
    _ca_certs: Option<serde::de::IgnoredAny>,
    #[serde(rename = "audience")]
    _audience: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCeOverrides {
    #[serde(default)]
    extensions: BTreeMap<String, String>,
}

/// Paths whose lines messages may need.
const PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.annotations",
    "spec",
    "spec.config",
    "spec.broker",
    "spec.brokerRef",
    "spec.filter",
    "spec.filter.attributes",
    "spec.filters",
    "spec.subscriber",
    "spec.subscriber.ref",
    "spec.subscriber.ref.apiVersion",
    "spec.subscriber.ref.kind",
    "spec.subscriber.ref.name",
    "spec.subscriber.ref.namespace",
    "spec.subscriber.uri",
    "spec.delivery",
    "spec.delivery.retry",
    "spec.delivery.backoffPolicy",
    "spec.delivery.backoffDelay",
    "spec.delivery.timeout",
    "spec.delivery.deadLetterSink",
    "spec.delivery.retryAfterMax",
    "spec.schedule",
    "spec.timezone",
    "spec.data",
    "spec.dataBase64",
    "spec.sink",
    "spec.sink.ref",
    "spec.sink.ref.apiVersion",
    "spec.sink.ref.kind",
    "spec.sink.ref.name",
    "spec.sink.ref.namespace",
    "spec.sink.uri",
];

/// Records the lines of the Eventing fields (and of each filter attribute)
/// in `doc`.
fn add_lines(v: &serde_json::Value, doc: &mut DocRef, lines: &DocLines) {
    for f in PATHS {
        let pointer = format!("/{}", f.replace('.', "/"));
        if v.pointer(&pointer).is_none() {
            continue;
        }
        let l = lines.line_of(f);
        if l > 0 {
            doc.lines.insert(f.to_string(), l);
        }
    }
    let attrs = "spec.filter.attributes";
    if let (Some(&start), Some(obj)) = (
        doc.lines.get(attrs),
        v.pointer("/spec/filter/attributes")
            .and_then(|o| o.as_object()),
    ) {
        for k in obj.keys() {
            let l = lines.key_line_after(start, k);
            if l > 0 {
                doc.lines.insert(format!("{attrs}.{k}"), l);
            }
        }
    }
}

/// Whether a document of this `apiVersion`/`kind` (ConfigMap named `name`)
/// is an Eventing one.
pub(super) fn is_eventing(api: &str, kind: &str, name: &str) -> bool {
    matches!(
        (api, kind),
        ("eventing.knative.dev/v1", "Broker" | "Trigger")
            | ("sources.knative.dev/v1", "PingSource")
    ) || (api, kind, name) == ("v1", "ConfigMap", CONFIG_MAP)
}

/// Parses an Eventing document ([`is_eventing`] said it is one).
pub(super) fn parse(
    v: &serde_json::Value,
    doc: &DocRef,
    lines: &DocLines,
) -> Result<Manifest, Vec<ManifestError>> {
    let mut doc = doc.clone();
    add_lines(v, &mut doc, lines);
    let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let m = match kind {
        "Broker" => broker(v, &doc, lines)?,
        "Trigger" => trigger(v, &doc, lines)?,
        "PingSource" => ping_source(v, &doc, lines)?,
        _ => broker_defaults(v, &doc, lines)?,
    };
    Ok(Manifest::Eventing(Box::new(m)))
}

fn name(meta: &Meta, doc: &DocRef, errs: &mut Vec<ManifestError>) -> String {
    let n = meta.name.clone().unwrap_or_default();
    if n.is_empty() {
        errs.push(doc.error("metadata.name", "missing field(s)"));
    }
    n
}

fn delivery(
    d: Option<RawDelivery>,
    doc: &DocRef,
    errs: &mut Vec<ManifestError>,
) -> Option<DeliverySpec> {
    let d = d?;
    if d.retry_after_max.is_some() {
        errs.push(doc.error(
            "spec.delivery.retryAfterMax",
            "needs the delivery-retryafter feature, disabled in the shipped config-features; \
             Retry-After is not modelled",
        ));
    }
    if let Some(f) = &d.format {
        if f != "json" && f != "binary" {
            errs.push(doc.error(
                "spec.delivery.format",
                format!("invalid value: {f:?}: must be \"json\" or \"binary\""),
            ));
        }
    }
    Some(DeliverySpec {
        retry: d.retry,
        backoff_policy: d.backoff_policy,
        backoff_delay: d.backoff_delay,
        timeout: d.timeout,
        dead_letter_sink: d.dead_letter_sink.as_ref().map(sink_name),
    })
}

fn broker(
    v: &serde_json::Value,
    doc: &DocRef,
    lines: &DocLines,
) -> Result<EventingManifest, Vec<ManifestError>> {
    let raw: RawBroker = typed(v, doc, lines)?;
    let mut errs = Vec::new();
    let name = name(&raw.metadata, doc, &mut errs);
    let delivery = delivery(raw.spec.delivery, doc, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(EventingManifest::Broker(BrokerManifest {
        name,
        namespace: raw.metadata.namespace,
        class: raw
            .metadata
            .annotations
            .get(CLASS_ANNOTATION)
            .cloned()
            .unwrap_or_default(),
        config_kind: raw.spec.config.and_then(|c| c.kind),
        delivery,
        doc: doc.clone(),
    }))
}

fn trigger(
    v: &serde_json::Value,
    doc: &DocRef,
    lines: &DocLines,
) -> Result<EventingManifest, Vec<ManifestError>> {
    let raw: RawTrigger = typed(v, doc, lines)?;
    let mut errs = Vec::new();
    let name = name(&raw.metadata, doc, &mut errs);
    let s = raw.spec;
    if s.broker_ref.is_some() {
        errs.push(doc.error(
            "spec.brokerRef",
            "cross-namespace Broker references are not modelled; name the Broker in spec.broker",
        ));
    }
    let broker = s.broker.clone().unwrap_or_default();
    if broker.is_empty() && s.broker_ref.is_none() {
        errs.push(doc.error("spec.broker", "missing field(s)"));
    }
    if s.filters.is_some() {
        errs.push(doc.error(
            "spec.filters",
            "SubscriptionsAPI filters are not modelled; use spec.filter.attributes",
        ));
    }
    let subscriber = match s.subscriber {
        Some(v) => v,
        None => {
            errs.push(doc.error("spec.subscriber", "missing field(s)"));
            serde_json::Value::Null
        }
    };
    let delivery = delivery(s.delivery, doc, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(EventingManifest::Trigger(TriggerManifest {
        name,
        namespace: raw.metadata.namespace,
        broker,
        filter: s.filter.and_then(|f| f.attributes),
        subscriber,
        delivery,
        doc: doc.clone(),
    }))
}

fn ping_source(
    v: &serde_json::Value,
    doc: &DocRef,
    lines: &DocLines,
) -> Result<EventingManifest, Vec<ManifestError>> {
    let raw: RawPing = typed(v, doc, lines)?;
    let mut errs = Vec::new();
    let name = name(&raw.metadata, doc, &mut errs);
    let s = raw.spec;
    // The payload does not change any timing the model has; upstream's own
    // rule on it is still checked.
    if s.data.is_some() && s.data_base64.is_some() {
        errs.push(doc.error(
            "spec.data",
            "expected exactly one, got both: data, dataBase64",
        ));
    }
    let mut sink_broker = String::new();
    match s.sink {
        None => errs.push(doc.error("spec.sink", "missing field(s)")),
        Some(sink) => {
            if sink.uri.is_some() {
                errs.push(doc.error(
                    "spec.sink.uri",
                    "a URI sink is not modelled: the sink is the Broker (spec.sink.ref)",
                ));
            }
            match sink.reference {
                None if sink.uri.is_none() => {
                    errs.push(doc.error("spec.sink.ref", "missing field(s)"))
                }
                None => {}
                Some(r) => {
                    if r.kind.as_deref() != Some("Broker") {
                        errs.push(doc.error(
                            "spec.sink.ref.kind",
                            format!(
                                "{:?}: the sink must be the Broker (kind \"Broker\")",
                                r.kind.unwrap_or_default()
                            ),
                        ));
                    }
                    if r.api_version.as_deref() != Some("eventing.knative.dev/v1") {
                        errs.push(doc.error(
                            "spec.sink.ref.apiVersion",
                            format!(
                                "{:?}: a Broker is eventing.knative.dev/v1",
                                r.api_version.unwrap_or_default()
                            ),
                        ));
                    }
                    sink_broker = r.name.unwrap_or_default();
                    if sink_broker.is_empty() {
                        errs.push(doc.error("spec.sink.ref.name", "missing field(s)"));
                    }
                }
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(EventingManifest::PingSource(PingSourceManifest {
        name,
        namespace: raw.metadata.namespace,
        schedule: s.schedule.filter(|x| !x.is_empty()),
        timezone: s.timezone.filter(|x| !x.is_empty()),
        extensions: s.ce_overrides.map(|c| c.extensions).unwrap_or_default(),
        sink_broker,
        doc: doc.clone(),
    }))
}

fn broker_defaults(
    v: &serde_json::Value,
    doc: &DocRef,
    _lines: &DocLines,
) -> Result<EventingManifest, Vec<ManifestError>> {
    let text = v
        .pointer(&format!("/data/{DATA_KEY}"))
        .and_then(|t| t.as_str())
        .unwrap_or("");
    let field = format!("data.{DATA_KEY}");
    let defaults = if text.trim().is_empty() {
        BrokerDefaults::default()
    } else {
        BrokerDefaults::parse(text).map_err(|e| vec![doc.error(field.clone(), e)])?
    };
    if let Some(obj) = v.get("data").and_then(|d| d.as_object()) {
        if let Some(k) = obj.keys().find(|k| *k != DATA_KEY && *k != "_example") {
            return Err(vec![doc.error(
                format!("data.{k}"),
                format!("unknown key {k:?}; config-br-defaults holds {DATA_KEY}"),
            )]);
        }
    }
    Ok(EventingManifest::BrokerDefaults(BrokerDefaultsManifest {
        defaults,
        doc: doc.clone(),
    }))
}
