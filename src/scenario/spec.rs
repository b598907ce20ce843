//! The typed, validated scenario: what the simulation reads and trusts.
//! Nothing here parses or checks; the loader builds these from the raw
//! types once every rule holds.

use crate::knative::annotations::RevisionAnnotations;
use crate::knative::config::{AutoscalerConfig, DefaultsConfig, DeploymentConfig, NetworkConfig};
use crate::knative::kpa::RevisionScaling;
use crate::knative::route::{TrafficConfig, TrafficTarget};
use crate::kubernetes::resources::PodResources;
use crate::sim::{SimDuration, SimTime};
use crate::workload::{Dist, Slowdown, Workloads};
use std::path::PathBuf;

/// Seed used when neither the scenario nor `--seed` gives one. It is always
/// written to the outputs, so a run can be repeated exactly.
pub const DEFAULT_SEED: u64 = 1;

/// A validated scenario: everything the simulation needs, already checked.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Scenario name (outputs go to `results/<name>/` by default).
    pub name: String,
    /// Free-form description.
    pub description: Option<String>,
    /// Knative Service name.
    pub service: String,
    /// Master seed.
    pub seed: u64,
    /// Simulated time to run.
    pub duration: SimDuration,
    /// The requests the summary counts (`warmup`, `measure`); `None` = all.
    pub window: Option<super::window::Window>,
    /// Directory of the scenario file (relative paths resolve from here).
    pub base_dir: PathBuf,
    /// `config-autoscaler`.
    pub autoscaler: AutoscalerConfig,
    /// `config-defaults`.
    pub defaults: DefaultsConfig,
    /// `config-deployment`.
    pub deployment: DeploymentConfig,
    /// `config-network`.
    pub network: NetworkConfig,
    /// The simulated cluster.
    pub cluster: ClusterSpec,
    /// The HPA controller's flags (`[hpa]`).
    pub hpa: crate::knative::hpa::ControllerSettings,
    /// Revisions, oldest first.
    pub revisions: Vec<RevisionSpec>,
    /// The traffic block as given (or Knative's default).
    pub traffic: Vec<TrafficTarget>,
    /// The traffic block resolved to revisions (§6.2 of the spec).
    pub route: TrafficConfig,
    /// Workload sources.
    pub workloads: Workloads,
    /// The `[slo]` section, judged by `knsim check`.
    pub slo: Option<super::slo::Slo>,
    /// Changes made while the simulation runs, in time order (empty for a
    /// scenario without a `[[timeline]]`).
    pub timeline: Vec<TimelineStep>,
    /// The Service's `serving.knative.dev/rollout-duration` annotation at
    /// the start, when a Service manifest sets it (it overrides
    /// config-network's `rollout-duration`).
    pub rollout_duration: Option<SimDuration>,
    /// The bounds the run was checked against.
    pub limits: Limits,
    /// Every Service, in scenario order. A single-Service scenario has one,
    /// built from the top-level `service`, `[[revision]]`, `traffic` and
    /// `[[workload]]`; `revisions`, `workloads` hold every Service's, grouped.
    pub services: Vec<ServiceSpec>,
    /// Written in the several-Services form (`[[service]]` tables, or
    /// manifests with several Services): outputs then name each row's and
    /// revision's Service. A single-Service scenario's outputs stay as they
    /// were before Services existed.
    pub multi_service: bool,
    /// Knative Eventing objects, when the scenario has any.
    pub eventing: Option<super::eventing::EventingSpec>,
}

impl Scenario {
    /// The Service that revision `index` (in `revisions` order, then those a
    /// timeline creates) belongs to.
    pub fn service_of_revision(&self, index: usize) -> usize {
        self.services
            .iter()
            .position(|s| s.revisions.contains(&index))
            .unwrap_or(0)
    }

    /// The Service that workload source `index` sends to.
    pub fn service_of_source(&self, index: usize) -> usize {
        self.services
            .iter()
            .position(|s| s.sources.contains(&index))
            .unwrap_or(0)
    }
}

/// One Knative Service: its share of the scenario's revisions and sources,
/// and its route.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    /// Service name.
    pub name: String,
    /// Its revisions: indices into [`Scenario::revisions`].
    pub revisions: std::ops::Range<usize>,
    /// Its traffic block as given (or Knative's default).
    pub traffic: Vec<TrafficTarget>,
    /// Its traffic block resolved to its revisions' names.
    pub route: TrafficConfig,
    /// Its workload sources: indices into [`Scenario::workloads`].
    pub sources: std::ops::Range<usize>,
    /// Its `serving.knative.dev/rollout-duration` annotation at the start,
    /// when a Service manifest sets it.
    pub rollout_duration: Option<SimDuration>,
}

/// The simulated cluster.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Maximum pods running at once; `None` = unlimited.
    pub max_pods: Option<u32>,
    /// Activator replicas.
    pub activators: u32,
    /// Kubelet readiness probe period.
    pub kubelet_probe_period: SimDuration,
    /// Kubelet readiness probe timeout.
    pub kubelet_probe_timeout: SimDuration,
    /// Most pods one revision may have: the autoscaler's wish is capped
    /// here so that memory stays bounded (`limits.max-pods`).
    pub max_replicas: u32,
    /// Node pools and the Cluster Autoscaler; `None` = pods need no node.
    pub nodes: Option<super::cluster::NodesSpec>,
}

/// Pod start-up phases.
#[derive(Clone, Debug)]
pub struct StartupModel {
    /// Creation and scheduling.
    pub scheduling: Dist,
    /// Image pull.
    pub image_pull: Dist,
    /// Container start.
    pub container_start: Dist,
    /// Application initialisation.
    pub app_init: Dist,
}

/// One validated revision.
#[derive(Clone, Debug)]
pub struct RevisionSpec {
    /// Revision name.
    pub name: String,
    /// containerConcurrency (0 = unlimited).
    pub container_concurrency: u32,
    /// timeoutSeconds as a duration.
    pub timeout: SimDuration,
    /// Application service time.
    pub service_time: Dist,
    /// Service-time slowdown with the pod's in-flight count.
    pub slowdown: Slowdown,
    /// Parsed autoscaling annotations.
    pub annotations: RevisionAnnotations,
    /// Decider, metric and KPA parameters resolved from CM + annotations.
    pub scaling: RevisionScaling,
    /// Pod start-up phases.
    pub startup: StartupModel,
    /// Free-form message (the greeter's greeting).
    pub message: Option<String>,
    /// Requests and limits of the user container and the queue-proxy.
    pub resources: PodResources,
    /// `[revision.usage]`, when given.
    pub usage: Option<super::usage::Usage>,
    /// Probability that the application answers 500 to a request it served,
    /// independently per request; 0 draws no random numbers.
    pub failure_probability: f64,
}

/// The bounds of `[limits]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Most simulation events a run may be expected to process.
    pub max_events: f64,
    /// Most requests expected in the system at once.
    pub max_requests_in_flight: f64,
    /// Most pods of one revision; the autoscaler's wish is capped here.
    pub max_pods: u32,
    /// Most activator replicas.
    pub max_activators: u32,
    /// Most rows of `timeseries.csv` (one per simulated second and revision).
    pub max_timeseries_rows: f64,
}

impl Default for Limits {
    /// A billion events take a few minutes at the simulator's speed; ten
    /// million requests in flight hold a few GB; Knative's activator HPA
    /// stops at 20 replicas by default; ten million timeseries rows take
    /// about a GB on disk.
    fn default() -> Self {
        Limits {
            max_events: 1e9,
            max_requests_in_flight: 1e7,
            max_pods: 10_000,
            max_activators: 100,
            max_timeseries_rows: 1e7,
        }
    }
}

/// One validated change.
#[derive(Clone, Debug)]
pub enum TimelineAction {
    /// ConfigMaps changed; these are the complete new values. Deciders and
    /// metric windows of every revision pick them up.
    Configs(Box<ClusterConfigs>),
    /// A new revision: its pods start as Knative starts them.
    CreateRevision(Box<RevisionSpec>),
    /// The Service's traffic block (defaulted) and its rollout-duration
    /// annotation (`None` = config-network decides).
    Traffic {
        /// The new block.
        targets: Vec<TrafficTarget>,
        /// `serving.knative.dev/rollout-duration` on the Service.
        rollout_duration: Option<SimDuration>,
    },
    /// A revision's annotations changed (complete new values).
    Annotate {
        /// Revision name.
        revision: String,
        /// The new annotations.
        annotations: Box<RevisionAnnotations>,
    },
    /// A revision is deleted: its pods drain and it leaves every route.
    DeleteRevision(String),
    /// The Service is deleted: its route is gone (its requests get 404 at
    /// the ingress) and every revision is deleted as by `DeleteRevision`.
    DeleteService,
}

/// The four ConfigMaps.
#[derive(Clone, Debug)]
pub struct ClusterConfigs {
    /// `config-autoscaler`.
    pub autoscaler: AutoscalerConfig,
    /// `config-defaults`.
    pub defaults: DefaultsConfig,
    /// `config-deployment`.
    pub deployment: DeploymentConfig,
    /// `config-network`.
    pub network: NetworkConfig,
}

/// Changes at one simulated time.
#[derive(Clone, Debug)]
pub struct TimelineStep {
    /// When.
    pub at: SimTime,
    /// The Service the actions change (an index into
    /// [`Scenario::services`]); ConfigMap changes are cluster-wide. Revision
    /// names in the actions are the engine's (`service/revision` with
    /// several Services), except in `CreateRevision` and `Traffic`, which
    /// use the Service's own names.
    pub service: usize,
    /// What, in order.
    pub actions: Vec<TimelineAction>,
}
