//! The scenario file as written: serde structs that mirror the TOML, with no
//! policy applied. Validation turns them into a [`super::Scenario`].

use crate::knative::route::TrafficTarget;
use crate::workload::{DistSpec, DurationValue, LoadOptionsSpec, SlowdownSpec, WorkloadSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A ConfigMap-like table: Knative keeps every value as a string, but TOML
/// users may write `target-burst-capacity = 211`, so scalars of any type are
/// accepted and turned into the string Knative would see.
pub type ConfigTable = BTreeMap<String, ConfigValue>;

/// A scalar from a ConfigMap-like table or an annotation map.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum ConfigValue {
    /// `"60s"`, `"true"`, `"211"`.
    String(String),
    /// `211`.
    Integer(i64),
    /// `0.7`.
    Float(f64),
    /// `true`.
    Bool(bool),
}

impl ConfigValue {
    /// The value as Knative would read it from a ConfigMap.
    pub fn as_knative_string(&self) -> String {
        match self {
            ConfigValue::String(s) => s.clone(),
            ConfigValue::Integer(i) => i.to_string(),
            ConfigValue::Float(f) => f.to_string(),
            ConfigValue::Bool(b) => b.to_string(),
        }
    }
}

/// Converts a config table into the string map Knative parses.
pub fn to_string_map(t: &ConfigTable) -> BTreeMap<String, String> {
    t.iter()
        .map(|(k, v)| (k.clone(), v.as_knative_string()))
        .collect()
}

/// The whole scenario file.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawScenario {
    /// Scenario name; defaults to the file name without extension.
    pub name: Option<String>,
    /// One-line description shown in the summary.
    pub description: Option<String>,
    /// Knative Service name (used for hostnames and generated revision
    /// names), or several Services as `[[service]]` tables.
    pub service: Option<RawServices>,
    /// Master seed; `--seed` overrides it.
    pub seed: Option<u64>,
    /// Simulated time to run, e.g. `"10m"` or `600` (seconds).
    pub duration: Option<DurationValue>,
    /// Requests arriving before this are left out of the summary.
    pub warmup: Option<DurationValue>,
    /// How long to measure after the warm-up (default: to the end of the run).
    pub measure: Option<DurationValue>,
    /// `config-autoscaler` keys.
    #[serde(default)]
    pub autoscaler: ConfigTable,
    /// `config-defaults` keys.
    #[serde(default)]
    pub defaults: ConfigTable,
    /// `config-deployment` keys.
    #[serde(default)]
    pub deployment: ConfigTable,
    /// `config-network` keys.
    #[serde(default)]
    pub network: ConfigTable,
    /// The simulated cluster (pod start-up, capacity, activators).
    #[serde(default)]
    pub cluster: RawCluster,
    /// The HPA controller's flags (HPA-class revisions only).
    #[serde(default)]
    pub hpa: super::usage::RawHpa,
    /// Revisions of the service, oldest first.
    #[serde(default)]
    pub revision: Vec<RawRevision>,
    /// The Service's traffic block (Knative's TrafficTarget fields).
    pub traffic: Option<Vec<TrafficTarget>>,
    /// Workload sources.
    #[serde(default)]
    pub workload: Vec<WorkloadSpec>,
    /// Global load scaling (speedup, rate-multiplier).
    #[serde(default)]
    pub load: LoadOptionsSpec,
    /// Service-level objectives (used by `knsim check`).
    pub slo: Option<toml::Table>,
    /// Knative YAML files applied before the simulation starts, in order.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Application behaviour of revisions created from manifests.
    #[serde(default)]
    pub app: RawApp,
    /// Changes while the simulation runs.
    #[serde(default)]
    pub timeline: Vec<RawTimelineStep>,
    /// What this machine is allowed to spend on the run.
    #[serde(default)]
    pub limits: RawLimits,
    /// Knative Eventing objects: a Broker, Triggers and event sources.
    pub eventing: Option<super::eventing::RawEventing>,
}

/// `[limits]`: bounds that `knsim validate` checks the scenario's estimated
/// cost against, so a run can neither exhaust memory nor go on for ever.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLimits {
    /// Most simulation events the run may be expected to process.
    pub max_events: Option<f64>,
    /// Most requests that may be expected in the system at once.
    pub max_requests_in_flight: Option<f64>,
    /// Most pods one revision may have (also caps min-scale and initial-scale).
    pub max_pods: Option<u32>,
    /// Most activator replicas.
    pub max_activators: Option<u32>,
    /// Most rows of `timeseries.csv`.
    pub max_timeseries_rows: Option<f64>,
}

/// `[cluster]`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCluster {
    /// Maximum pods that can run at once (all revisions); 0 or absent = unlimited.
    pub max_pods: Option<u32>,
    /// Activator replicas in the cluster (Knative's activator HPA starts at 1).
    pub activators: Option<u32>,
    /// Kubelet readiness probe period (Kubernetes defaults Knative's 0 to 10 s).
    pub kubelet_probe_period: Option<DurationValue>,
    /// Kubelet readiness probe timeout (Kubernetes default 1 s).
    pub kubelet_probe_timeout: Option<DurationValue>,
    /// Pod start-up phases for every revision (a revision may override).
    #[serde(default)]
    pub pod_startup: RawStartup,
    /// Node pools; without any, pods need no node.
    #[serde(default)]
    pub node_pool: Vec<super::cluster::RawNodePool>,
    /// The Cluster Autoscaler's flags (only with node pools).
    pub autoscaler: Option<super::cluster::RawClusterAutoscaler>,
    /// NodeResourcesFit's scoring strategy: `LeastAllocated` (default) or
    /// `MostAllocated` (only with node pools).
    pub scoring_strategy: Option<String>,
}

/// Pod start-up phases, each a distribution of seconds.
#[derive(Clone, Debug, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawStartup {
    /// Pod creation and scheduling onto a node.
    pub scheduling: Option<DistSpec>,
    /// Image pull (cached or not).
    pub image_pull: Option<DistSpec>,
    /// Container start (queue-proxy and user container in parallel).
    pub container_start: Option<DistSpec>,
    /// Application initialisation until it accepts connections.
    pub app_init: Option<DistSpec>,
}

/// One `[[revision]]`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRevision {
    /// Revision name (Knative's `metadata.name`).
    pub name: Option<String>,
    /// `spec.containerConcurrency`; absent = config-defaults `container-concurrency`.
    #[serde(rename = "containerConcurrency")]
    pub container_concurrency: Option<i64>,
    /// `spec.timeoutSeconds`; absent = config-defaults `revision-timeout-seconds`.
    #[serde(rename = "timeoutSeconds")]
    pub timeout_seconds: Option<i64>,
    /// Service-time distribution of the application.
    #[serde(rename = "service-time")]
    pub service_time: Option<DistSpec>,
    /// CPU-sharing slowdown of service times with the pod's in-flight count
    /// (off by default).
    pub slowdown: Option<SlowdownSpec>,
    /// Revision annotations (`autoscaling.knative.dev/...`).
    #[serde(default)]
    pub annotations: ConfigTable,
    /// Per-revision start-up phases (override `[cluster.pod-startup]`).
    #[serde(rename = "pod-startup")]
    pub pod_startup: Option<RawStartup>,
    /// Free-form text (e.g. the greeter's message); reported, not simulated.
    pub message: Option<String>,
    /// The user container's `resources`, as in a pod spec.
    pub resources: Option<RawResources>,
    /// What requests cost a pod in CPU and memory (the resource model).
    pub usage: Option<super::usage::RawUsage>,
    /// Probability that the application answers 500 to a request it
    /// served, independently per request (default 0: never).
    #[serde(rename = "failure-probability")]
    pub failure_probability: Option<f64>,
}

/// A container's `resources`: quantities such as `cpu = "500m"` or
/// `memory = "256Mi"` (plain numbers are read as Kubernetes reads them).
#[derive(Clone, Debug, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawResources {
    /// `requests`.
    #[serde(default)]
    pub requests: ConfigTable,
    /// `limits`.
    #[serde(default)]
    pub limits: ConfigTable,
}

/// One `[[timeline]]` entry as written. Everything given in one entry
/// happens at the same time, in this order: ConfigMap changes, `apply`,
/// `revision`, `traffic`, `annotate`, `delete-revision`, `delete-service`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawTimelineStep {
    /// Simulated time of the change, e.g. `"2m"` or `120` (seconds).
    pub at: DurationValue,
    /// Knative YAML file(s) to apply, like `kubectl apply -f`.
    #[serde(default)]
    pub apply: OneOrMany,
    /// A new revision, as a `[[revision]]` table.
    pub revision: Option<RawRevision>,
    /// A new traffic block for the Service.
    pub traffic: Option<Vec<TrafficTarget>>,
    /// `config-autoscaler` keys to change (merged into the current values).
    pub autoscaler: Option<ConfigTable>,
    /// `config-defaults` keys to change.
    pub defaults: Option<ConfigTable>,
    /// `config-deployment` keys to change.
    pub deployment: Option<ConfigTable>,
    /// `config-network` keys to change.
    pub network: Option<ConfigTable>,
    /// Annotations to set on an existing revision.
    pub annotate: Option<RawAnnotate>,
    /// Name of a revision to delete (its pods drain).
    pub delete_revision: Option<String>,
    /// The Service the entry changes (required with several Services for
    /// `revision`, `traffic` and `delete-revision`).
    pub service: Option<String>,
    /// Name of a Service to delete: its route goes and its revisions drain.
    pub delete_service: Option<String>,
}

/// A file name or a list of them.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One file.
    One(String),
    /// Several, applied in order.
    Many(Vec<String>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany {
    /// The file names, in order.
    pub fn list(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// `annotate = { revision = "...", annotations = { ... } }`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawAnnotate {
    /// The revision's Service (required when the scenario has several).
    pub service: Option<String>,
    /// The revision to annotate.
    pub revision: String,
    /// Annotations to set (an empty string removes one).
    pub annotations: ConfigTable,
}

/// `[app]`: what a manifest cannot say, the behaviour of the application
/// in revisions created from manifests.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawApp {
    /// Service-time distribution for every manifest revision.
    pub service_time: Option<DistSpec>,
    /// CPU-sharing slowdown for every manifest revision (off by default).
    pub slowdown: Option<SlowdownSpec>,
    /// Pod start-up phases (override `[cluster.pod-startup]`).
    pub pod_startup: Option<RawStartup>,
    /// Probability of a 500 per served request, for every manifest revision.
    pub failure_probability: Option<f64>,
    /// Per revision name: overrides of the above, and a message.
    #[serde(default)]
    pub revision: BTreeMap<String, RawAppRevision>,
}

/// `[app.revision."<name>"]`.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawAppRevision {
    /// Service-time distribution of this revision.
    pub service_time: Option<DistSpec>,
    /// CPU-sharing slowdown of this revision.
    pub slowdown: Option<SlowdownSpec>,
    /// Pod start-up phases of this revision.
    pub pod_startup: Option<RawStartup>,
    /// Free-form text (e.g. the greeter's greeting); reported, not simulated.
    pub message: Option<String>,
    /// Probability of a 500 per served request of this revision.
    pub failure_probability: Option<f64>,
}

/// `service = "hello"` (the single-Service form) or `[[service]]` tables.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum RawServices {
    /// The one Service's name.
    Name(String),
    /// Several Services, each with its revisions, traffic and workloads.
    Tables(Vec<RawService>),
}

impl<'de> Deserialize<'de> for RawServices {
    // By hand rather than `untagged`: an untagged enum would hide the
    // position and the words of an error inside a `[[service]]` table.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawServices;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Service name (service = \"hello\") or [[service]] tables")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawServices, E> {
                Ok(RawServices::Name(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawServices, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<RawService>()? {
                    v.push(s);
                }
                Ok(RawServices::Tables(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// One `[[service]]`: a Knative Service of a scenario with several.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawService {
    /// The Service's name (a DNS-1035 label, unique in the scenario).
    pub name: Option<String>,
    /// Its revisions, oldest first.
    #[serde(default)]
    pub revision: Vec<RawRevision>,
    /// Its traffic block.
    pub traffic: Option<Vec<TrafficTarget>>,
    /// Its workload sources.
    #[serde(default)]
    pub workload: Vec<WorkloadSpec>,
    /// Makes this table a template: one Service per function that the
    /// workload's Azure trace selection picks.
    pub per_function: Option<bool>,
    /// With `per-function`, how many Services each function stands for
    /// (default 1); copies draw their arrivals independently.
    pub copies: Option<u32>,
}
