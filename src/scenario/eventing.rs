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
use crate::knative::eventing::delivery::{default_broker_delivery, effective_delivery};
use crate::knative::eventing::{ping, DeliverySpec, EventAttributes, RetryConfig};
use crate::knative::is_dns1035_label;
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
}

/// `[eventing.broker]`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawBroker {
    /// `metadata.name` (default `default`).
    pub name: Option<String>,
    /// `spec.delivery`; absent = `config-br-defaults`.
    pub delivery: Option<RawDelivery>,
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
    let broker_given = raw_broker.delivery.as_ref().map(RawDelivery::to_spec);
    if let Some(d) = &broker_given {
        p.extend("", d.validate("eventing.broker.delivery"));
    }
    let broker_delivery =
        default_broker_delivery(broker_given.as_ref(), &DeliverySpec::broker_default());

    let mut names = BTreeSet::new();
    let mut triggers = Vec::new();
    for (i, t) in raw.trigger.iter().enumerate() {
        let at = |f: &str| format!("eventing.trigger[{i}].{f}");
        let name = t.name.clone().unwrap_or_else(|| format!("trigger-{i}"));
        if !names.insert(name.clone()) {
            p.push(
                at("name"),
                format!("{name:?} is used by an earlier trigger"),
            );
        }
        if let Some(b) = &t.broker {
            if *b != broker {
                p.push(
                    at("broker"),
                    format!("no Broker named {b:?} (the Broker is {broker:?})"),
                );
            }
        }
        let (subscriber, service) = match subscriber_service(&t.subscriber, &namespace, services) {
            Ok(x) => x,
            Err((f, rule)) => {
                p.push(at(&f), rule);
                (String::new(), 0)
            }
        };
        let filter = t.filter.as_ref().and_then(|f| f.attributes.clone());
        let own = t.delivery.as_ref().map(RawDelivery::to_spec);
        if let Some(d) = &own {
            p.extend("", d.validate(&at("delivery")));
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
        let at = |f: &str| format!("eventing.ping-source[{i}].{f}");
        let name = ps.name.clone().unwrap_or_else(|| format!("ping-{i}"));
        if !source_names.insert(name.clone()) {
            p.push(at("name"), format!("{name:?} is used by an earlier source"));
        }
        if let Some(tz) = &ps.timezone {
            if tz != "UTC" && tz != "Etc/UTC" {
                p.push(at("timezone"), format!("{tz:?}: only UTC is modelled"));
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
            Err(e) => p.push(at("schedule"), e.to_string()),
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
