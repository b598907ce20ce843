//! Scenario files: loading, `--set` overrides, and validation into the typed
//! [`Scenario`] that the simulation trusts.
//!
//! Loading is two-stage (raw serde structs, then `validate`), and every error
//! names the file, the field path, the line and column where the TOML has them,
//! and the rule that was broken.

mod locate;
pub mod raw;
pub mod timeline;

use crate::knative::annotations::RevisionAnnotations;
use crate::knative::config::{AutoscalerConfig, DefaultsConfig, DeploymentConfig, NetworkConfig};
use crate::knative::error::FieldError;
use crate::knative::kpa::{resolve_revision_scaling, RevisionScaling};
use crate::knative::route::{
    compute_traffic, is_dns1035_label, validate_traffic, TrafficConfig, TrafficTarget,
};
use crate::manifest::DocRef;
use crate::sim::{parse_go_duration, SimDuration, SimTime};
use crate::workload::{
    build_workloads, Dist, DistSpec, DurationValue, Slowdown, WorkloadError, Workloads,
};
use raw::{to_string_map, RawRevision, RawScenario, RawStartup};
use std::fmt;
use std::path::{Path, PathBuf};
pub use timeline::{TimelineAction, TimelineStep};

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
    /// Revisions, oldest first.
    pub revisions: Vec<RevisionSpec>,
    /// The traffic block as given (or Knative's default).
    pub traffic: Vec<TrafficTarget>,
    /// The traffic block resolved to revisions (§6.2 of the spec).
    pub route: TrafficConfig,
    /// Workload sources.
    pub workloads: Workloads,
    /// Raw `[slo]` table, interpreted by the gate.
    pub slo: Option<toml::Table>,
    /// Changes made while the simulation runs, in time order (empty for a
    /// scenario without a `[[timeline]]`).
    pub timeline: Vec<TimelineStep>,
    /// The Service's `serving.knative.dev/rollout-duration` annotation at
    /// the start, when a Service manifest sets it (it overrides
    /// config-network's `rollout-duration`).
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
}

/// Where in the input an error was found.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// Line and column (1-based) in the scenario file.
    Position {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The value came from a `--set` override.
    Override(String),
    /// Not locatable (e.g. a missing key).
    Unknown,
    /// A document of a Knative YAML manifest.
    Manifest {
        /// The YAML file.
        file: PathBuf,
        /// 1-based document index.
        document: usize,
    },
}

/// One problem in a scenario, located.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Dotted field path, e.g. `autoscaler.stable-window`.
    pub field: String,
    /// The rule that was broken.
    pub rule: String,
    /// Where.
    pub origin: Origin,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Position { line, column } => {
                write!(f, "{line}:{column}: {}: {}", self.field, self.rule)
            }
            Origin::Override(s) => write!(f, " {} (from --set {s}): {}", self.field, self.rule),
            Origin::Unknown => write!(f, " {}: {}", self.field, self.rule),
            Origin::Manifest { file, document } => write!(
                f,
                "{} (document {document}): {}: {}",
                file.display(),
                self.field,
                self.rule
            ),
        }
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax error or a value of the wrong type / unknown key.
    #[error("{}:{problem}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The problem, located (boxed: errors travel in `Result`s a lot).
        problem: Box<Problem>,
    },
    /// A `--set` override could not be applied.
    #[error("--set {spec}: {rule}")]
    Override {
        /// The override as given.
        spec: String,
        /// What is wrong with it.
        rule: String,
    },
    /// One or more values break Knative's (or knsim's) rules.
    #[error("{} invalid value(s) in {}:\n{}", problems.len(), path.display(), list(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

fn list(path: &Path, problems: &[Problem]) -> String {
    // `file:line:column: field: rule`, the form editors and terminals link to.
    problems
        .iter()
        .map(|p| match p.origin {
            // A manifest's problem names its own file.
            Origin::Manifest { .. } => format!("  {p}"),
            _ => format!("  {}:{p}", path.display()),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `KEY=VALUE` override of a scenario value by its dotted path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Override {
    /// Dotted path, e.g. `autoscaler.stable-window` or `revision.0.containerConcurrency`.
    pub key: String,
    /// The value as text; parsed as a TOML value when it is one, else taken as a string.
    pub value: String,
}

impl std::str::FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("empty key in {s:?}"));
        }
        Ok(Override {
            key: k.to_string(),
            value: v.trim().to_string(),
        })
    }
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// Reads, overrides and validates a scenario file.
pub fn load_scenario(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    load_scenario_str(&text, path, &name, &base_dir, overrides)
}

/// Like [`load_scenario`] from text already in memory (`path` is for messages).
pub fn load_scenario_str(
    text: &str,
    path: &Path,
    default_name: &str,
    base_dir: &Path,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    // Parse once as written so syntax and type errors point into the file.
    let first: Result<RawScenario, _> = toml::from_str(text);
    let (text, raw) = if overrides.is_empty() {
        let raw = first.map_err(|e| parse_error(path, text, &e, overrides))?;
        (text.to_string(), raw)
    } else {
        if let Err(e) = &first {
            // An override may fix a type error, but never a syntax error.
            if text.parse::<toml_edit::DocumentMut>().is_err() {
                return Err(parse_error(path, text, e, overrides));
            }
        }
        let patched = locate::apply_overrides(text, overrides)?;
        let raw: RawScenario =
            toml::from_str(&patched).map_err(|e| parse_error(path, &patched, &e, overrides))?;
        (patched, raw)
    };
    validate(raw, &text, path, default_name, base_dir, overrides)
}

fn parse_error(
    path: &Path,
    text: &str,
    e: &toml::de::Error,
    overrides: &[Override],
) -> ScenarioError {
    let (line, column) = e
        .span()
        .map(|s| locate::line_col(text, s.start))
        .unwrap_or((0, 0));
    let msg = e.message().trim().to_string();
    let field = locate::key_at(text, e.span().map(|s| s.start)).unwrap_or_default();
    let origin = match overrides
        .iter()
        .find(|o| !field.is_empty() && locate::same_path(&o.key, &field))
    {
        Some(o) => Origin::Override(o.to_string()),
        None if line > 0 => Origin::Position { line, column },
        None => Origin::Unknown,
    };
    ScenarioError::Parse {
        path: path.to_path_buf(),
        problem: Box::new(Problem {
            field: if field.is_empty() {
                "(document)".into()
            } else {
                field
            },
            rule: msg,
            origin,
        }),
    }
}

/// Where a dotted `field` of a scenario's TOML `text` came from: the `--set`
/// override that set it, else its line and column, else unknown.
pub fn locate_field(text: &str, overrides: &[Override], field: &str) -> Origin {
    match overrides.iter().find(|o| locate::same_path(&o.key, field)) {
        Some(o) => Origin::Override(o.to_string()),
        None => match locate::find(text, field) {
            Some((line, column)) => Origin::Position { line, column },
            None => Origin::Unknown,
        },
    }
}

/// Collects problems with their locations.
struct Problems<'a> {
    text: &'a str,
    overrides: &'a [Override],
    list: Vec<Problem>,
    /// While set, problems belong to this manifest document.
    doc: Option<DocRef>,
}

impl Problems<'_> {
    fn push(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        let field = field.into();
        if let Some(d) = &self.doc {
            self.list.push(Problem {
                field,
                rule: rule.into(),
                origin: Origin::Manifest {
                    file: d.file.clone(),
                    document: d.document,
                },
            });
            return;
        }
        let origin = locate_field(self.text, self.overrides, &field);
        self.list.push(Problem {
            field,
            rule: rule.into(),
            origin,
        });
    }

    fn extend(&mut self, prefix: &str, errs: Vec<FieldError>) {
        for e in errs {
            let field = if prefix.is_empty() {
                e.path
            } else if e.path.contains('/') {
                format!("{prefix}.\"{}\"", e.path)
            } else {
                format!("{prefix}.{}", e.path)
            };
            self.push(field, e.rule);
        }
    }
}

fn duration_field(
    p: &mut Problems,
    field: &str,
    v: &Option<String>,
    default: SimDuration,
) -> SimDuration {
    match v {
        None => default,
        Some(s) => match parse_go_duration(s) {
            Ok(d) => d,
            Err(e) => {
                p.push(field, e);
                default
            }
        },
    }
}

fn validate(
    raw: RawScenario,
    text: &str,
    path: &Path,
    default_name: &str,
    base_dir: &Path,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    let mut p = Problems {
        text,
        overrides,
        list: Vec::new(),
        doc: None,
    };

    let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
    if name.is_empty() || name.contains(['/', '\\']) {
        p.push(
            "name",
            "must be non-empty and contain no path separators (it names the output folder)",
        );
    }
    let service = raw.service.clone().unwrap_or_else(|| "service".to_string());
    if !is_dns1035_label(&service) {
        p.push(
            "service",
            "must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter)",
        );
    }
    let duration = match &raw.duration {
        None => {
            p.push(
                "duration",
                "is required: how much simulated time to run, e.g. \"10m\"",
            );
            SimDuration::ZERO
        }
        Some(s) => match parse_go_duration(s) {
            Ok(d) if d == SimDuration::ZERO => {
                p.push("duration", "must be greater than 0");
                d
            }
            Ok(d) => d,
            Err(e) => {
                p.push("duration", e);
                SimDuration::ZERO
            }
        },
    };

    // Manifests named by `manifests = [...]` are applied before the start;
    // their ConfigMaps are the base the TOML tables override key by key.
    let initial = timeline::load_initial_manifests(&mut p, &raw, base_dir);
    let cm = |kind, table: &raw::ConfigTable| {
        let mut m = initial.config_map(kind);
        m.extend(to_string_map(table));
        m
    };
    use crate::manifest::ConfigMapKind as K;
    let autoscaler_map = cm(K::Autoscaler, &raw.autoscaler);
    let defaults_map = cm(K::Defaults, &raw.defaults);
    let deployment_map = cm(K::Deployment, &raw.deployment);
    let network_map = cm(K::Network, &raw.network);
    let autoscaler = AutoscalerConfig::from_map(&autoscaler_map).unwrap_or_else(|e| {
        p.extend("autoscaler", e);
        AutoscalerConfig::default()
    });
    let defaults = DefaultsConfig::from_map(&defaults_map).unwrap_or_else(|e| {
        p.extend("defaults", e);
        DefaultsConfig::default()
    });
    let deployment = DeploymentConfig::from_map(&deployment_map).unwrap_or_else(|e| {
        p.extend("deployment", e);
        DeploymentConfig::default()
    });
    let network = NetworkConfig::from_map(&network_map).unwrap_or_else(|e| {
        p.extend("network", e);
        NetworkConfig::default()
    });
    if autoscaler.pod_autoscaler_class != "kpa.autoscaling.knative.dev" {
        p.push(
            "autoscaler.pod-autoscaler-class",
            "only the KPA class (kpa.autoscaling.knative.dev) is simulated",
        );
    }

    let c = &raw.cluster;
    let activators = c.activators.unwrap_or(1);
    if activators == 0 {
        p.push(
            "cluster.activators",
            "must be at least 1 (Knative always runs an activator)",
        );
    }
    let max_pods = match c.max_pods {
        None | Some(0) => None,
        Some(n) => Some(n),
    };
    let kubelet_probe_period = duration_field(
        &mut p,
        "cluster.kubelet-probe-period",
        &c.kubelet_probe_period,
        SimDuration::from_secs(10),
    );
    if kubelet_probe_period == SimDuration::ZERO {
        p.push("cluster.kubelet-probe-period", "must be greater than 0");
    }
    let kubelet_probe_timeout = duration_field(
        &mut p,
        "cluster.kubelet-probe-timeout",
        &c.kubelet_probe_timeout,
        SimDuration::from_secs(1),
    );
    let cluster = ClusterSpec {
        max_pods,
        activators: activators.max(1),
        kubelet_probe_period: if kubelet_probe_period == SimDuration::ZERO {
            SimDuration::from_secs(10)
        } else {
            kubelet_probe_period
        },
        kubelet_probe_timeout,
    };
    let cluster_startup = build_startup(
        &mut p,
        "cluster.pod-startup",
        &c.pod_startup,
        None,
        base_dir,
    );

    let service = match initial.service_name() {
        Some(n) if raw.service.is_none() => n.to_string(),
        Some(n) if *n != service => {
            p.push(
                "service",
                format!("is {service:?}, but the Service manifest is named {n:?}"),
            );
            service
        }
        _ => service,
    };
    if raw.revision.is_empty() && !initial.has_service() && !initial.failed {
        p.push(
            "revision",
            "at least one [[revision]] (or a Service in `manifests`) is required",
        );
    }
    let mut revisions = Vec::new();
    for (i, r) in raw.revision.iter().enumerate() {
        let at = |f: &str| format!("revision[{i}].{f}");
        if let Some(rev) = build_revision(
            &mut p,
            &at,
            format!("{service}-{:05}", i + 1),
            r,
            &autoscaler,
            &defaults,
            &deployment,
            &cluster_startup,
            base_dir,
        ) {
            revisions.push(rev);
        }
    }
    let mut plane = timeline::Plane::new(
        &service,
        [autoscaler_map, defaults_map, deployment_map, network_map],
        (&autoscaler, &defaults, &deployment, &network),
        &revisions,
        &raw.revision,
    );
    plane.startup = Some(cluster_startup.clone());
    let initial_traffic = initial.apply(&mut p, &mut plane, &raw, base_dir, &mut revisions);
    let mut seen = std::collections::BTreeSet::new();
    for (i, r) in revisions.iter().enumerate() {
        if !seen.insert(r.name.clone()) {
            p.push(
                format!("revision[{i}].name"),
                format!("duplicate revision name {:?}", r.name),
            );
        }
    }

    let traffic = initial_traffic.or(raw.traffic.clone()).unwrap_or_else(|| {
        vec![TrafficTarget {
            percent: Some(100),
            latest_revision: Some(true),
            ..Default::default()
        }]
    });
    let traffic = default_traffic(traffic);
    p.extend("", validate_traffic(&traffic, "traffic"));
    for (i, t) in traffic.iter().enumerate() {
        if let Some(n) = &t.revision_name {
            if !revisions.iter().any(|r| &r.name == n) && !revisions.is_empty() {
                p.push(
                    format!("traffic[{i}].revisionName"),
                    format!("revision {n:?} is not defined by any [[revision]]"),
                );
            }
        }
    }
    let latest = revisions.last().map(|r| r.name.clone());
    let route = match compute_traffic(&traffic, latest.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            if p.list.is_empty() {
                p.extend("", vec![e]);
            }
            TrafficConfig {
                default: vec![],
                tags: Default::default(),
            }
        }
    };

    plane.set_traffic(traffic.clone(), initial.rollout_duration());
    let (steps, later_tags) = timeline::build(&mut p, &mut plane, &raw, base_dir, duration);

    if raw.workload.is_empty() {
        p.push("workload", "at least one [[workload]] is required");
    }
    let horizon = SimTime::ZERO + duration;
    let workloads = match build_workloads(&raw.workload, &raw.load, base_dir, horizon) {
        Ok(w) => Some(w),
        Err(errs) => {
            for e in errs {
                let (field, rule) = workload_problem(&e);
                p.push(field, rule);
            }
            None
        }
    };
    if let Some(w) = &workloads {
        for (i, s) in w.sources.iter().enumerate() {
            if let Some(tag) = &s.tag {
                if !route.tags.contains_key(tag) && !later_tags.contains(tag) {
                    p.push(
                        format!("workload[{i}].tag"),
                        format!(
                            "no traffic target has tag {tag:?} (tags: {})",
                            route.tags.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }
    }

    if !p.list.is_empty() {
        return Err(ScenarioError::Invalid {
            path: path.to_path_buf(),
            problems: p.list,
        });
    }
    Ok(Scenario {
        name,
        description: raw.description,
        service,
        seed: raw.seed.unwrap_or(DEFAULT_SEED),
        duration,
        base_dir: base_dir.to_path_buf(),
        autoscaler,
        defaults,
        deployment,
        network,
        cluster,
        revisions,
        traffic,
        route,
        workloads: workloads.expect("no problems means workloads were built"),
        slo: raw.slo,
        timeline: steps,
        rollout_duration: initial.rollout_duration(),
    })
}

/// Knative's traffic defaulting: `latestRevision` is true exactly when no
/// revisionName is given.
fn default_traffic(mut t: Vec<TrafficTarget>) -> Vec<TrafficTarget> {
    for target in &mut t {
        if target.latest_revision.is_none() && target.configuration_name.is_none() {
            target.latest_revision = Some(target.revision_name.is_none());
        }
    }
    t
}

fn default_startup() -> RawStartup {
    // Defaults follow the "about 4 seconds without the mesh" cold start that
    // Knative's scaling roadmap reports, split over the phases.
    let c = |v: &str| DistSpec::Constant {
        value: DurationValue::Text(v.to_string()),
    };
    RawStartup {
        scheduling: Some(c("500ms")),
        image_pull: Some(c("1500ms")),
        container_start: Some(c("1s")),
        app_init: Some(c("1s")),
    }
}

fn build_startup(
    p: &mut Problems,
    prefix: &str,
    raw: &RawStartup,
    fallback: Option<&StartupModel>,
    base_dir: &Path,
) -> StartupModel {
    let defaults = default_startup();
    let mut one =
        |name: &str, spec: &Option<DistSpec>, def: &Option<DistSpec>, fb: Option<&Dist>| -> Dist {
            let field = format!("{prefix}.{name}");
            match (spec, fb) {
                (Some(s), _) => s.build(&field, base_dir).unwrap_or_else(|e| {
                    let (f, r) = workload_problem(&e);
                    p.push(f, r);
                    Dist::constant(0.0)
                }),
                (None, Some(d)) => d.clone(),
                (None, None) => def
                    .as_ref()
                    .expect("defaults are set")
                    .build(&field, base_dir)
                    .expect("built-in defaults are valid"),
            }
        };
    StartupModel {
        scheduling: one(
            "scheduling",
            &raw.scheduling,
            &defaults.scheduling,
            fallback.map(|f| &f.scheduling),
        ),
        image_pull: one(
            "image-pull",
            &raw.image_pull,
            &defaults.image_pull,
            fallback.map(|f| &f.image_pull),
        ),
        container_start: one(
            "container-start",
            &raw.container_start,
            &defaults.container_start,
            fallback.map(|f| &f.container_start),
        ),
        app_init: one(
            "app-init",
            &raw.app_init,
            &defaults.app_init,
            fallback.map(|f| &f.app_init),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn build_revision(
    p: &mut Problems,
    at: &dyn Fn(&str) -> String,
    default_name: String,
    r: &RawRevision,
    autoscaler: &AutoscalerConfig,
    defaults: &DefaultsConfig,
    deployment: &DeploymentConfig,
    cluster_startup: &StartupModel,
    base_dir: &Path,
) -> Option<RevisionSpec> {
    let before = p.list.len();
    let name = r.name.clone().unwrap_or(default_name);
    if !is_dns1035_label(&name) && !is_dns1123_subdomain(&name) {
        p.push(
            at("name"),
            "must be a DNS-1123 name (lower-case letters, digits, '-' and '.')",
        );
    }
    let cc = r
        .container_concurrency
        .unwrap_or(defaults.container_concurrency);
    if cc < 0 || cc > defaults.container_concurrency_max_limit {
        p.push(
            at("containerConcurrency"),
            format!(
                "expected 0 <= {cc} <= {} (config-defaults container-concurrency-max-limit)",
                defaults.container_concurrency_max_limit
            ),
        );
    }
    let timeout = r
        .timeout_seconds
        .unwrap_or(defaults.revision_timeout_seconds);
    if timeout < 0 || timeout > defaults.max_revision_timeout_seconds {
        p.push(
            at("timeoutSeconds"),
            format!(
                "expected 0 <= {timeout} <= {} (config-defaults max-revision-timeout-seconds)",
                defaults.max_revision_timeout_seconds
            ),
        );
    }
    // Knative treats timeoutSeconds 0 as "use the default".
    let timeout = if timeout == 0 {
        defaults.revision_timeout_seconds
    } else {
        timeout
    };
    let slowdown = match &r.slowdown {
        Some(s) => s.build(&at("slowdown")).map_err(|e| {
            let (f, rule) = workload_problem(&e);
            p.push(f, rule);
        }),
        None => Ok(Slowdown::None),
    };
    let service_time = match &r.service_time {
        Some(s) => s.build(&at("service-time"), base_dir).map_err(|e| {
            let (f, rule) = workload_problem(&e);
            p.push(f, rule);
        }),
        None => {
            p.push(
                at("service-time"),
                "is required: the application's service-time distribution, e.g. { distribution = \"exponential\", mean = \"50ms\" }",
            );
            Err(())
        }
    };
    let annotations = RevisionAnnotations::parse(&to_string_map(&r.annotations), autoscaler)
        .map_err(|e| {
            p.extend(&at("annotations"), e);
        });
    let startup = match &r.pod_startup {
        Some(s) => build_startup(p, &at("pod-startup"), s, Some(cluster_startup), base_dir),
        None => cluster_startup.clone(),
    };
    if p.list.len() > before {
        return None;
    }
    let annotations = annotations.ok()?;
    let scaling = resolve_revision_scaling(autoscaler, deployment, cc, &annotations);
    Some(RevisionSpec {
        name,
        container_concurrency: cc as u32,
        timeout: SimDuration::from_secs(timeout as u64),
        service_time: service_time.ok()?,
        slowdown: slowdown.ok()?,
        annotations,
        scaling,
        startup,
        message: r.message.clone(),
    })
}

fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// The field path and rule of a workload error, for the scenario's problem list.
fn workload_problem(e: &WorkloadError) -> (String, String) {
    match e {
        WorkloadError::Invalid { path, rule } => (path.clone(), rule.clone()),
        WorkloadError::Io { path, file, source } => (
            path.clone(),
            format!("cannot read {}: {source}", file.display()),
        ),
        WorkloadError::Format {
            path,
            file,
            line,
            column,
            column_name,
            rule,
        } => {
            // The file's own position comes first, as editors expect.
            let mut at = file.display().to_string();
            if *line > 0 {
                at.push_str(&format!(":{line}"));
                if let Some(c) = column {
                    at.push_str(&format!(":{c}"));
                }
            }
            let col = column_name
                .as_ref()
                .map(|n| format!(" (column `{n}`)"))
                .unwrap_or_default();
            (path.clone(), format!("{at}: {rule}{col}"))
        }
    }
}
