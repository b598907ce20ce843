//! The `[eventing]` table: a Broker, its Triggers and the event sources
//! that feed it, with Knative Eventing's names (`eventing.knative.dev/v1`
//! Broker and Trigger, `sources.knative.dev/v1` PingSource, the `delivery`
//! block) and defaults (`config-br-defaults`). Arrival-process sources reuse
//! the `[[workload]]` arrival processes.
//!
//! A Trigger's subscriber names one of the scenario's Services (by name, or
//! as a Destination `ref` to a `serving.knative.dev/v1` Service); its
//! deliveries follow that Service's own route.

use super::problems::Problems;
use super::revision::workload_problem;
use crate::knative::eventing::cron::{parse_utc, CronSchedule};
use crate::knative::eventing::defaults::BrokerDefaults;
use crate::knative::eventing::delivery::{default_broker_delivery, effective_delivery};
use crate::knative::eventing::{ping, DeliverySpec, EventAttributes, RetryConfig};
use crate::knative::is_dns1035_label;
use crate::manifest::eventing::EventingManifest;
use crate::manifest::{DocRef, Manifest};
use crate::sim::SimTime;
use crate::workload::{
    build_workloads, ArrivalSpec, Dist, DistSpec, DurationValue, LoadOptionsSpec, Source,
    SourceKind, WorkloadSpec,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `[eventing]` as written.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawEventing {
    /// Namespace of the objects (PingSource event sources name it).
    pub namespace: Option<String>,
    /// Wall-clock UTC time of simulated time zero, `YYYY-MM-DDTHH:MM:SSZ`;
    /// PingSource schedules are read against it.
    pub clock_start: Option<String>,
    /// Time an event takes from the Broker's ingress to the Trigger's
    /// subscriber, drawn once per attempt (in-memory channel vs Kafka).
    pub broker_latency: Option<DistSpec>,
    /// The Broker.
    pub broker: Option<RawBroker>,
    /// Triggers on the Broker.
    #[serde(default)]
    pub trigger: Vec<RawTrigger>,
    /// Event streams with an arrival process.
    #[serde(default)]
    pub source: Vec<RawEventSource>,
    /// PingSources.
    #[serde(default)]
    pub ping_source: Vec<RawPingSource>,
    /// `config-br-defaults` from a manifest (the shipped one otherwise).
    #[serde(skip)]
    pub broker_defaults: Option<BrokerDefaults>,
}

/// `[eventing.broker]`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawBroker {
    /// `metadata.name` (default `default`).
    pub name: Option<String>,
    /// `spec.delivery`; absent = `config-br-defaults`.
    pub delivery: Option<RawDelivery>,
    /// The manifest it came from, if any.
    #[serde(skip)]
    pub doc: Option<DocRef>,
    /// `metadata.namespace` of a manifest.
    #[serde(skip)]
    pub namespace: Option<String>,
    /// The `eventing.knative.dev/broker.class` annotation of a manifest,
    /// or its `spec.config.kind` (which upstream looks defaults up by).
    #[serde(skip)]
    pub class: String,
}

/// A `delivery` block, with Knative's field names.
#[derive(Clone, Debug, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawDelivery {
    /// Retries after the first attempt.
    pub retry: Option<i64>,
    /// `linear` or `exponential`.
    pub backoff_policy: Option<String>,
    /// ISO-8601 base delay, e.g. `PT0.2S`.
    pub backoff_delay: Option<String>,
    /// ISO-8601 bound on each attempt.
    pub timeout: Option<String>,
    /// Where undeliverable events go (only counted): a name, or a
    /// Destination table (`{ uri = "..." }` or `{ ref = { ... } }`).
    pub dead_letter_sink: Option<toml::Value>,
}

impl RawDelivery {
    /// The spec the pure delivery code validates.
    pub fn to_spec(&self) -> DeliverySpec {
        DeliverySpec {
            retry: self.retry,
            backoff_policy: self.backoff_policy.clone(),
            backoff_delay: self.backoff_delay.clone(),
            timeout: self.timeout.clone(),
            dead_letter_sink: self.dead_letter_sink.as_ref().map(|v| match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
        }
    }
}

/// `[[eventing.trigger]]`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawTrigger {
    /// `metadata.name`.
    pub name: Option<String>,
    /// `spec.broker` (default: the Broker).
    pub broker: Option<String>,
    /// The Service the Trigger delivers to: its name, or a Destination
    /// `{ ref = { apiVersion = "serving.knative.dev/v1", kind = "Service",
    /// name = "..." } }`.
    pub subscriber: Option<toml::Value>,
    /// `spec.filter`.
    pub filter: Option<RawFilter>,
    /// `spec.delivery`; absent = the Broker's.
    pub delivery: Option<RawDelivery>,
    /// The manifest it came from, if any.
    #[serde(skip)]
    pub doc: Option<DocRef>,
    /// `metadata.namespace` of a manifest.
    #[serde(skip)]
    pub namespace: Option<String>,
}

/// `spec.filter`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFilter {
    /// Exact matches on CloudEvent attributes (`""` = any non-empty value).
    pub attributes: Option<BTreeMap<String, String>>,
}

/// `[[eventing.source]]`: events from an arrival process.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawEventSource {
    /// Name (default `source-<index>`).
    pub name: Option<String>,
    /// CloudEvent `type`.
    #[serde(rename = "type")]
    pub ce_type: Option<String>,
    /// CloudEvent `source`.
    pub source: Option<String>,
    /// CloudEvent extensions.
    #[serde(default)]
    pub extensions: BTreeMap<String, String>,
    /// When the source starts (default 0).
    pub start: Option<DurationValue>,
    /// When it stops (default: the end of the run).
    pub end: Option<DurationValue>,
    /// How events arrive (any open-loop `[[workload]]` process).
    pub arrival: ArrivalSpec,
}

/// `[[eventing.ping-source]]`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawPingSource {
    /// `metadata.name`.
    pub name: Option<String>,
    /// `spec.schedule` (default `* * * * *`).
    pub schedule: Option<String>,
    /// `spec.timezone`; only UTC is modelled.
    pub timezone: Option<String>,
    /// `spec.ceOverrides.extensions`.
    #[serde(default)]
    pub extensions: BTreeMap<String, String>,
    /// The manifest it came from, if any.
    #[serde(skip)]
    pub doc: Option<DocRef>,
    /// `metadata.namespace` of a manifest.
    #[serde(skip)]
    pub namespace: Option<String>,
    /// The Broker a manifest's `spec.sink.ref` names (the `[eventing]`
    /// table's PingSources send to the Broker).
    #[serde(skip)]
    pub sink: Option<String>,
}

/// A validated Trigger.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerSpec {
    /// Name.
    pub name: String,
    /// The Service it delivers to.
    pub subscriber: String,
    /// That Service's index in the scenario's Services.
    pub service: usize,
    /// Attribute filter (`None` = every event).
    pub filter: Option<BTreeMap<String, String>>,
    /// The effective delivery's retry configuration.
    pub retry: RetryConfig,
    /// The effective dead-letter sink, if any.
    pub dead_letter_sink: Option<String>,
}

/// How a validated event source produces events.
#[derive(Clone, Debug)]
pub enum EventSourceKind {
    /// An open-loop arrival process.
    Stream(Source),
    /// A PingSource: one event per schedule match, after a jitter.
    Ping(CronSchedule),
}

/// A validated event source.
#[derive(Clone, Debug)]
pub struct EventSourceSpec {
    /// Name.
    pub name: String,
    /// The attributes of its events.
    pub attributes: EventAttributes,
    /// What makes it emit.
    pub kind: EventSourceKind,
}

/// The validated `[eventing]` table.
#[derive(Clone, Debug)]
pub struct EventingSpec {
    /// Namespace.
    pub namespace: String,
    /// UTC seconds since the Unix epoch at simulated time zero.
    pub clock_start: i64,
    /// Broker-to-subscriber latency per attempt.
    pub broker_latency: Dist,
    /// The Broker's name.
    pub broker: String,
    /// The Broker's delivery after defaulting.
    pub broker_delivery: DeliverySpec,
    /// Triggers in file order.
    pub triggers: Vec<TriggerSpec>,
    /// Sources in file order: arrival-process sources, then PingSources.
    pub sources: Vec<EventSourceSpec>,
}

/// Simulated time zero when `clock-start` is not given.
pub const DEFAULT_CLOCK_START: &str = "2026-01-05T00:00:00Z";

/// Default broker latency: a constant 5 ms (two in-cluster HTTP hops).
const DEFAULT_LATENCY_S: f64 = 0.005;

pub(super) fn build(
    p: &mut Problems,
    raw: &RawEventing,
    load: &LoadOptionsSpec,
    services: &[String],
    base_dir: &Path,
    horizon: SimTime,
) -> Option<EventingSpec> {
    let before = p.list.len();
    let namespace = raw.namespace.clone().unwrap_or_else(|| "default".into());
    if !is_dns1035_label(&namespace) {
        p.push("eventing.namespace", "must be a DNS-1035 label");
    }
    let clock_text = raw.clock_start.as_deref().unwrap_or(DEFAULT_CLOCK_START);
    let clock_start = parse_utc(clock_text).unwrap_or_else(|| {
        p.push(
            "eventing.clock-start",
            format!("{clock_text:?} is not a UTC time: expected YYYY-MM-DDTHH:MM:SSZ, e.g. \"{DEFAULT_CLOCK_START}\""),
        );
        0
    });
    let broker_latency = match &raw.broker_latency {
        None => Dist::Constant(DEFAULT_LATENCY_S),
        Some(d) => d
            .build("eventing.broker-latency", base_dir)
            .unwrap_or_else(|e| {
                let (f, rule) = workload_problem(&e);
                p.push(f, rule);
                Dist::Constant(0.0)
            }),
    };
    let raw_broker = raw.broker.clone().unwrap_or_default();
    let broker = raw_broker.name.clone().unwrap_or_else(|| "default".into());
    let place = Place::new("eventing.broker".into(), &raw_broker.doc);
    place.namespace(p, &raw_broker.namespace, &namespace);
    let broker_given = raw_broker.delivery.as_ref().map(RawDelivery::to_spec);
    if let Some(d) = &broker_given {
        place.extend(p, d.validate("delivery"));
    }
    let defaults = raw
        .broker_defaults
        .clone()
        .unwrap_or_else(BrokerDefaults::shipped);
    let broker_delivery = default_broker_delivery(
        broker_given.as_ref(),
        &defaults.default_delivery(&namespace, &raw_broker.class),
    );

    let mut names = BTreeSet::new();
    let mut triggers = Vec::new();
    for (i, t) in raw.trigger.iter().enumerate() {
        let place = Place::new(format!("eventing.trigger[{i}]"), &t.doc);
        place.namespace(p, &t.namespace, &namespace);
        let name = t.name.clone().unwrap_or_else(|| format!("trigger-{i}"));
        if !names.insert(name.clone()) {
            place.push(p, "name", format!("{name:?} is used by an earlier trigger"));
        }
        if let Some(b) = &t.broker {
            if *b != broker {
                place.push(
                    p,
                    "broker",
                    format!("no Broker named {b:?} (the Broker is {broker:?})"),
                );
            }
        }
        let (subscriber, service) = match subscriber_service(&t.subscriber, &namespace, services) {
            Ok(x) => x,
            Err((f, rule)) => {
                place.push(p, &f, rule);
                (String::new(), 0)
            }
        };
        let filter = t.filter.as_ref().and_then(|f| f.attributes.clone());
        for k in filter.iter().flat_map(|f| f.keys()) {
            if !is_attribute_name(k) {
                place.push(
                    p,
                    &format!("filter.attributes.{k}"),
                    format!(
                        "invalid key name {k:?}: an attribute name starts with a lower-case letter \
                         and has only lower-case letters and digits"
                    ),
                );
            }
        }
        let own = t.delivery.as_ref().map(RawDelivery::to_spec);
        if let Some(d) = &own {
            place.extend(p, d.validate("delivery"));
        }
        let eff = effective_delivery(own.as_ref(), Some(&broker_delivery));
        let retry = eff
            .as_ref()
            .map_or(Ok(RetryConfig::NONE), RetryConfig::from_spec)
            .unwrap_or(RetryConfig::NONE);
        triggers.push(TriggerSpec {
            name,
            subscriber,
            service,
            filter,
            retry,
            dead_letter_sink: eff.and_then(|d| d.dead_letter_sink),
        });
    }
    if raw.trigger.is_empty() {
        p.push(
            "eventing.trigger",
            "at least one [[eventing.trigger]] is required",
        );
    }

    let mut sources = Vec::new();
    let mut source_names = BTreeSet::new();
    let specs: Vec<WorkloadSpec> = raw
        .source
        .iter()
        .enumerate()
        .map(|(i, s)| WorkloadSpec {
            name: Some(s.name.clone().unwrap_or_else(|| format!("source-{i}"))),
            tag: None,
            start: s.start.clone(),
            end: s.end.clone(),
            arrival: s.arrival.clone(),
        })
        .collect();
    match build_workloads(&specs, load, base_dir, horizon) {
        Ok(w) => {
            for (i, (src, raw_src)) in w.sources.into_iter().zip(&raw.source).enumerate() {
                let at = |f: &str| format!("eventing.source[{i}].{f}");
                if matches!(src.kind, SourceKind::Closed { .. }) {
                    p.push(
                        at("arrival"),
                        "an event source is open-loop: a closed-loop process has no meaning here",
                    );
                }
                let ce_type = raw_src.ce_type.clone().unwrap_or_default();
                if ce_type.is_empty() {
                    p.push(
                        at("type"),
                        "is required: the CloudEvent type, e.g. \"com.example.order\"",
                    );
                }
                let ce_source = raw_src.source.clone().unwrap_or_default();
                if ce_source.is_empty() {
                    p.push(
                        at("source"),
                        "is required: the CloudEvent source, e.g. \"/shop\"",
                    );
                }
                source_names.insert(src.name.clone());
                sources.push(EventSourceSpec {
                    name: src.name.clone(),
                    attributes: EventAttributes {
                        ce_type,
                        ce_source,
                        extensions: raw_src.extensions.clone(),
                    },
                    kind: EventSourceKind::Stream(src),
                });
            }
        }
        Err(errs) => {
            for e in errs {
                let (f, rule) = workload_problem(&e);
                let f = match f.strip_prefix("workload[") {
                    Some(rest) => format!("eventing.source[{rest}"),
                    None => f,
                };
                p.push(f, rule);
            }
        }
    }
    for (i, ps) in raw.ping_source.iter().enumerate() {
        let place = Place::new(format!("eventing.ping-source[{i}]"), &ps.doc);
        place.namespace(p, &ps.namespace, &namespace);
        let name = ps.name.clone().unwrap_or_else(|| format!("ping-{i}"));
        if !source_names.insert(name.clone()) {
            place.push(p, "name", format!("{name:?} is used by an earlier source"));
        }
        if let Some(b) = &ps.sink {
            if *b != broker {
                place.push(
                    p,
                    "sink.ref.name",
                    format!("no Broker named {b:?} (the Broker is {broker:?})"),
                );
            }
        }
        if let Some(tz) = &ps.timezone {
            if tz != "UTC" && tz != "Etc/UTC" {
                place.push(p, "timezone", format!("{tz:?}: only UTC is modelled"));
            }
        }
        let text = ps.schedule.as_deref().unwrap_or(ping::DEFAULT_SCHEDULE);
        match CronSchedule::parse(text) {
            Ok(s) => sources.push(EventSourceSpec {
                attributes: EventAttributes {
                    ce_type: ping::EVENT_TYPE.into(),
                    ce_source: ping::event_source(&namespace, &name),
                    extensions: ps.extensions.clone(),
                },
                name,
                kind: EventSourceKind::Ping(s),
            }),
            Err(e) => place.push(p, "schedule", e.to_string()),
        }
    }
    if raw.source.is_empty() && raw.ping_source.is_empty() {
        p.push(
            "eventing.source",
            "at least one [[eventing.source]] or [[eventing.ping-source]] is required",
        );
    }
    (p.list.len() == before).then_some(EventingSpec {
        namespace,
        clock_start,
        broker_latency,
        broker,
        broker_delivery,
        triggers,
        sources,
    })
}

/// The Service a Trigger's `subscriber` names and its index, or the field
/// (under `subscriber`) and the rule it breaks.
fn subscriber_service(
    raw: &Option<toml::Value>,
    namespace: &str,
    services: &[String],
) -> Result<(String, usize), (String, String)> {
    let known = || {
        services
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let bad = |f: &str, rule: String| Err((f.to_string(), rule));
    let (name, field) = match raw {
        None => {
            return bad(
                "subscriber",
                format!(
                    "is required: the Service that receives the events (one of {})",
                    known()
                ),
            )
        }
        Some(toml::Value::String(s)) => (s.clone(), "subscriber"),
        Some(toml::Value::Table(t)) => {
            if let Some(k) = t.keys().find(|k| k.as_str() != "ref") {
                let rule = if k == "uri" {
                    "a URI subscriber is not modelled: name a Service with `ref`".to_string()
                } else {
                    format!("unknown field {k:?}; a Destination here has `ref`")
                };
                return bad(&format!("subscriber.{k}"), rule);
            }
            let Some(toml::Value::Table(r)) = t.get("ref") else {
                return bad(
                    "subscriber.ref",
                    "is required: { apiVersion = \"serving.knative.dev/v1\", kind = \"Service\", name = \"...\" }".into(),
                );
            };
            let text = |k: &str| r.get(k).map(|v| v.as_str().map(str::to_string).ok_or(()));
            for k in r.keys() {
                if !["apiVersion", "kind", "name", "namespace"].contains(&k.as_str()) {
                    return bad(
                        &format!("subscriber.ref.{k}"),
                        format!(
                            "unknown field {k:?}; known fields: apiVersion, kind, name, namespace"
                        ),
                    );
                }
                if text(k) == Some(Err(())) {
                    return bad(&format!("subscriber.ref.{k}"), "must be a string".into());
                }
            }
            if let Some(Ok(kind)) = text("kind") {
                if kind != "Service" {
                    return bad(
                        "subscriber.ref.kind",
                        format!("{kind:?}: only a Knative Service (kind \"Service\") is modelled as a subscriber"),
                    );
                }
            }
            if let Some(Ok(api)) = text("apiVersion") {
                if api != "serving.knative.dev/v1" {
                    return bad(
                        "subscriber.ref.apiVersion",
                        format!("{api:?}: a subscriber Service is serving.knative.dev/v1"),
                    );
                }
            }
            if let Some(Ok(ns)) = text("namespace") {
                if ns != namespace {
                    return bad(
                        "subscriber.ref.namespace",
                        format!(
                            "{ns:?}: the Services live in the eventing namespace {namespace:?}"
                        ),
                    );
                }
            }
            match text("name") {
                Some(Ok(n)) => (n, "subscriber.ref.name"),
                _ => {
                    return bad(
                        "subscriber.ref.name",
                        "is required: the Service's name".into(),
                    )
                }
            }
        }
        Some(_) => {
            return bad(
                "subscriber",
                "must be a Service name or a Destination table with `ref`".into(),
            )
        }
    };
    match services.iter().position(|s| *s == name) {
        Some(i) => Ok((name, i)),
        None => bad(
            field,
            format!(
                "no Service named {name:?}; the scenario's Services are {}",
                known()
            ),
        ),
    }
}

/// `^[a-z][a-z0-9]*$`, the attribute names a Trigger filter accepts
/// (`pkg/apis/eventing/v1/trigger_validation.go`).
fn is_attribute_name(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|x| x.is_ascii_lowercase() || x.is_ascii_digit())
}

/// Where an Eventing object was written: its `[eventing]` entry, or a
/// manifest document (whose fields are `metadata.*` and `spec.*`).
struct Place<'a> {
    toml: String,
    doc: &'a Option<DocRef>,
}

impl<'a> Place<'a> {
    fn new(toml: String, doc: &'a Option<DocRef>) -> Self {
        Place { toml, doc }
    }

    /// A problem with field `f`, named as in the `[eventing]` table.
    fn push(&self, p: &mut Problems, f: &str, rule: impl Into<String>) {
        let Some(d) = self.doc else {
            p.push(format!("{}.{f}", self.toml), rule);
            return;
        };
        let yaml = match f {
            "name" | "namespace" => format!("metadata.{f}"),
            "extensions" => "spec.ceOverrides.extensions".into(),
            _ => format!("spec.{f}"),
        };
        let saved = p.doc.replace(d.clone());
        p.push(yaml, rule);
        p.doc = saved;
    }

    fn extend(&self, p: &mut Problems, errs: Vec<crate::knative::error::FieldError>) {
        for e in errs {
            self.push(p, &e.path, e.rule);
        }
    }

    /// A manifest object must live in the eventing namespace.
    fn namespace(&self, p: &mut Problems, ns: &Option<String>, namespace: &str) {
        if let Some(ns) = ns.as_deref().filter(|n| *n != namespace) {
            self.push(
                p,
                "namespace",
                format!(
                    "{ns:?}: every Eventing object of a scenario is in one namespace, {namespace:?}"
                ),
            );
        }
    }
}

/// The `[eventing]` table with the Eventing objects of `manifests` added
/// (Triggers and PingSources after the table's own); `None` when there is
/// neither.
pub(super) fn with_manifests(
    p: &mut Problems,
    raw: Option<&RawEventing>,
    manifests: &[Manifest],
) -> Option<RawEventing> {
    let objects: Vec<&EventingManifest> = manifests
        .iter()
        .filter_map(|m| match m {
            Manifest::Eventing(e) => Some(&**e),
            _ => None,
        })
        .collect();
    if objects.is_empty() {
        return raw.cloned();
    }
    let mut ev = raw.cloned().unwrap_or_default();
    let in_table = ev.broker.is_some();
    let to_raw = |d: &Option<DeliverySpec>| {
        d.as_ref().map(|d| RawDelivery {
            retry: d.retry,
            backoff_policy: d.backoff_policy.clone(),
            backoff_delay: d.backoff_delay.clone(),
            timeout: d.timeout.clone(),
            dead_letter_sink: d.dead_letter_sink.clone().map(toml::Value::String),
        })
    };
    if ev.namespace.is_none() {
        ev.namespace = objects.iter().find_map(|o| match o {
            EventingManifest::Broker(b) => b.namespace.clone(),
            EventingManifest::Trigger(t) => t.namespace.clone(),
            EventingManifest::PingSource(s) => s.namespace.clone(),
            EventingManifest::BrokerDefaults(_) => None,
        });
    }
    let mut first_broker: Option<&DocRef> = None;
    for o in objects {
        match o {
            EventingManifest::Broker(b) => {
                let rule = if in_table {
                    "[eventing.broker] defines the Broker too; define it in one place".to_string()
                } else if let Some(first) = first_broker {
                    format!("a second Broker: one Broker per scenario is modelled (the first is in {first})")
                } else {
                    first_broker = Some(&b.doc);
                    ev.broker = Some(RawBroker {
                        name: Some(b.name.clone()),
                        delivery: to_raw(&b.delivery),
                        doc: Some(b.doc.clone()),
                        namespace: b.namespace.clone(),
                        class: b.config_kind.clone().unwrap_or_else(|| b.class.clone()),
                    });
                    continue;
                };
                let saved = p.doc.replace(b.doc.clone());
                p.push("metadata.name", rule);
                p.doc = saved;
            }
            EventingManifest::Trigger(t) => ev.trigger.push(RawTrigger {
                name: Some(t.name.clone()),
                broker: Some(t.broker.clone()),
                subscriber: toml::Value::try_from(&t.subscriber).ok(),
                filter: t.filter.clone().map(|a| RawFilter {
                    attributes: Some(a),
                }),
                delivery: to_raw(&t.delivery),
                doc: Some(t.doc.clone()),
                namespace: t.namespace.clone(),
            }),
            EventingManifest::PingSource(s) => ev.ping_source.push(RawPingSource {
                name: Some(s.name.clone()),
                schedule: s.schedule.clone(),
                timezone: s.timezone.clone(),
                extensions: s.extensions.clone(),
                doc: Some(s.doc.clone()),
                namespace: s.namespace.clone(),
                sink: Some(s.sink_broker.clone()),
            }),
            EventingManifest::BrokerDefaults(d) => ev.broker_defaults = Some(d.defaults.clone()),
        }
    }
    Some(ev)
}
