//! Revisions over time: the `[[timeline]]` of a scenario, the Knative
//! manifests it (and `manifests = [...]`) applies, and their validation.
//!
//! Validation replays the control plane's state step by step (ConfigMaps,
//! revisions, the Service's template and traffic), so every action is
//! checked against what exists at its time, with Knative's webhook rules,
//! and becomes a typed [`TimelineAction`] the engine applies without
//! further checks.

use super::error::{clip, clip_field, Origin, Problem};
use super::problems::Problems;
use super::raw::{to_string_map, ConfigTable, ConfigValue, RawResources, RawRevision, RawScenario};
use super::revision::{build_revision, workload_problem};
use super::spec::{ClusterConfigs, RevisionSpec, StartupModel, TimelineAction, TimelineStep};
use super::timeline_actions as actions;
use crate::knative::config::{AutoscalerConfig, DefaultsConfig, DeploymentConfig, NetworkConfig};
use crate::knative::route::TrafficTarget;
use crate::manifest::{load_manifests, ConfigMapKind, Manifest, ServiceManifest};
use crate::sim::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const KINDS: [ConfigMapKind; 4] = [
    ConfigMapKind::Autoscaler,
    ConfigMapKind::Defaults,
    ConfigMapKind::Deployment,
    ConfigMapKind::Network,
];

fn kind_index(k: ConfigMapKind) -> usize {
    KINDS
        .iter()
        .position(|x| *x == k)
        .expect("every kind listed")
}

/// The manifests applied before the start.
pub(super) struct InitialManifests {
    manifests: Vec<Manifest>,
    rollout_duration: Option<SimDuration>,
    /// A file could not be used (its problems are already reported).
    pub(super) failed: bool,
}

/// Reads `manifests = [...]`; read errors become problems.
pub(super) fn load_initial_manifests(
    p: &mut Problems,
    raw: &RawScenario,
    base_dir: &Path,
) -> InitialManifests {
    let mut manifests = Vec::new();
    let mut failed = false;
    for f in &raw.manifests {
        match load_file(p, base_dir, f) {
            Some(m) => manifests.extend(m),
            None => failed = true,
        }
    }
    let rollout_duration = manifests.iter().rev().find_map(|m| match m {
        Manifest::Service(s) => Some(s.rollout_duration),
        _ => None,
    });
    InitialManifests {
        manifests,
        rollout_duration: rollout_duration.flatten(),
        failed,
    }
}

pub(super) fn load_file(p: &mut Problems, base_dir: &Path, file: &str) -> Option<Vec<Manifest>> {
    // Messages name the file as the scenario does, relative to its folder.
    let full = base_dir.join(file);
    match load_manifests(&full) {
        Ok(mut m) => {
            for x in &mut m {
                match x {
                    Manifest::Service(s) => s.doc.file = file.into(),
                    Manifest::ConfigMap(c) => c.doc.file = file.into(),
                    Manifest::Eventing(e) => e.doc_mut().file = file.into(),
                }
            }
            Some(m)
        }
        Err(errs) => {
            for e in errs {
                p.list.push(Problem {
                    field: clip_field(&e.field),
                    rule: clip(&e.rule),
                    origin: Origin::Manifest {
                        file: Path::new(file).to_path_buf(),
                        document: e.document,
                        line: e.line,
                    },
                });
            }
            // What the file would have defined is unknown from here on.
            p.revisions_unknown = true;
            None
        }
    }
}

impl InitialManifests {
    /// The data of the last ConfigMap of `kind`, or an empty map.
    pub(super) fn config_map(&self, kind: ConfigMapKind) -> BTreeMap<String, String> {
        self.manifests
            .iter()
            .rev()
            .find_map(|m| match m {
                Manifest::ConfigMap(c) if c.kind == kind => Some(c.data.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The Service's name, if a Service manifest is given.
    pub(super) fn service_name(&self) -> Option<&String> {
        self.manifests.iter().find_map(|m| match m {
            Manifest::Service(s) => Some(&s.name),
            _ => None,
        })
    }

    /// The names of the Service manifests, each once, in first-seen order.
    pub(super) fn service_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for m in &self.manifests {
            if let Manifest::Service(s) = m {
                if !names.contains(&s.name) {
                    names.push(s.name.clone());
                }
            }
        }
        names
    }

    /// Every manifest, in the order applied.
    pub(super) fn manifests(&self) -> &[Manifest] {
        &self.manifests
    }

    /// Whether a Service manifest is given.
    pub(super) fn has_service(&self) -> bool {
        self.service_name().is_some()
    }

    /// The Service's rollout-duration annotation.
    pub(super) fn rollout_duration(&self) -> Option<SimDuration> {
        self.rollout_duration
    }

    /// Applies the Service manifests (creating their revisions after the
    /// `[[revision]]` ones) and returns the traffic block they set.
    pub(super) fn apply(
        &self,
        p: &mut Problems,
        plane: &mut Plane,
        raw: &RawScenario,
        base_dir: &Path,
        revisions: &mut Vec<RevisionSpec>,
    ) -> Option<Vec<TrafficTarget>> {
        let mut traffic = None;
        for m in &self.manifests {
            let Manifest::Service(s) = m else { continue };
            if raw.traffic.is_some() {
                p.push(
                    "traffic",
                    "is also set by the Service manifest; give the traffic block in one place",
                );
            }
            let (rev, t) = plane.apply_service(p, s, raw, base_dir);
            if let Some(r) = rev {
                revisions.push(*r);
            }
            traffic = Some(t);
        }
        traffic
    }
}

struct PlaneRev {
    name: String,
    annotations: BTreeMap<String, String>,
    alive: bool,
}

/// The control plane's state while the timeline is validated.
pub(super) struct Plane {
    service: String,
    maps: [BTreeMap<String, String>; 4],
    autoscaler: AutoscalerConfig,
    defaults: DefaultsConfig,
    deployment: DeploymentConfig,
    network: NetworkConfig,
    revisions: Vec<PlaneRev>,
    traffic: Vec<TrafficTarget>,
    rollout_duration: Option<SimDuration>,
    template: Option<(Option<String>, serde_json::Value)>,
    /// `[cluster.pod-startup]`, the default of new revisions.
    pub(super) startup: Option<StartupModel>,
    /// The Service was deleted by the timeline.
    pub(super) deleted: bool,
    /// One of several Services: the engine names its revisions
    /// `service/revision`, and messages name the Service.
    pub(super) qualify: bool,
}

impl Plane {
    /// The state after the `[[revision]]` tables (maps in the order
    /// autoscaler, defaults, deployment, network).
    pub(super) fn new(
        service: &str,
        maps: [BTreeMap<String, String>; 4],
        configs: (
            &AutoscalerConfig,
            &DefaultsConfig,
            &DeploymentConfig,
            &NetworkConfig,
        ),
        revisions: &[RevisionSpec],
        raw_revisions: &[RawRevision],
    ) -> Plane {
        Plane {
            service: service.to_string(),
            maps,
            autoscaler: configs.0.clone(),
            defaults: configs.1.clone(),
            deployment: configs.2.clone(),
            network: configs.3.clone(),
            revisions: revisions
                .iter()
                .zip(raw_revisions)
                .map(|(r, raw)| PlaneRev {
                    name: r.name.clone(),
                    annotations: to_string_map(&raw.annotations),
                    alive: true,
                })
                .collect(),
            traffic: Vec::new(),
            rollout_duration: None,
            template: None,
            startup: None,
            deleted: false,
            qualify: false,
        }
    }

    /// The Service's name.
    pub(super) fn name(&self) -> &str {
        &self.service
    }

    /// Takes the ConfigMaps in effect from `other` (they are cluster-wide).
    pub(super) fn copy_configs(&mut self, other: &Plane) {
        self.maps = other.maps.clone();
        self.autoscaler = other.autoscaler.clone();
        self.defaults = other.defaults.clone();
        self.deployment = other.deployment.clone();
        self.network = other.network.clone();
    }

    /// The rollout-duration annotation in effect.
    pub(super) fn rollout_duration(&self) -> Option<SimDuration> {
        self.rollout_duration
    }

    /// The engine's name of revision `name`.
    pub(super) fn engine_name(&self, name: &str) -> String {
        if self.qualify {
            format!("{}/{name}", self.service)
        } else {
            name.to_string()
        }
    }

    /// The rule broken by a reference to a revision that does not exist.
    pub(super) fn no_revision(&self, name: &str) -> String {
        if self.qualify {
            format!(
                "Service {:?} has no revision {name:?} at this time",
                self.service
            )
        } else {
            format!("revision {name:?} does not exist at this time")
        }
    }

    /// Revision `ri`'s annotations as written.
    pub(super) fn annotations_of(&self, ri: usize) -> &BTreeMap<String, String> {
        &self.revisions[ri].annotations
    }

    /// Replaces revision `ri`'s annotations.
    pub(super) fn set_annotations(&mut self, ri: usize, m: BTreeMap<String, String>) {
        self.revisions[ri].annotations = m;
    }

    /// The newest revision not deleted.
    pub(super) fn newest_alive(&self) -> Option<usize> {
        self.revisions.iter().rposition(|r| r.alive)
    }

    /// The traffic target that routes to `name` by its revisionName.
    pub(super) fn routed_by(&self, name: &str) -> Option<usize> {
        self.traffic
            .iter()
            .position(|t| t.revision_name.as_deref() == Some(name))
    }

    /// Marks revision `ri` deleted.
    pub(super) fn kill(&mut self, ri: usize) {
        self.revisions[ri].alive = false;
    }

    /// Records the traffic in effect at the start.
    pub(super) fn set_traffic(&mut self, t: Vec<TrafficTarget>, rollout: Option<SimDuration>) {
        self.traffic = t;
        self.rollout_duration = rollout;
    }

    /// The ConfigMap of `kind` in effect, as a string map.
    pub(super) fn map(&self, kind: ConfigMapKind) -> &BTreeMap<String, String> {
        &self.maps[kind_index(kind)]
    }

    fn exists(&self, name: &str) -> bool {
        self.revisions.iter().any(|r| r.name == name)
    }

    pub(super) fn alive(&self, name: &str) -> Option<usize> {
        self.revisions
            .iter()
            .position(|r| r.alive && r.name == name)
    }

    fn next_name(&self) -> String {
        format!("{}-{:05}", self.service, self.revisions.len() + 1)
    }

    fn cluster_startup(&self) -> StartupModel {
        self.startup.clone().expect("set right after Plane::new")
    }

    /// Validates and builds a new revision with the configuration in effect.
    pub(super) fn create(
        &mut self,
        p: &mut Problems,
        at: &dyn Fn(&str) -> String,
        r: &RawRevision,
        base_dir: &Path,
    ) -> Option<RevisionSpec> {
        let name = r.name.clone().unwrap_or_else(|| self.next_name());
        if self.exists(&name) {
            p.push(
                at("name"),
                format!("revision {name:?} already exists; a changed template needs a new name"),
            );
            return None;
        }
        let startup = self.cluster_startup();
        let r = p.patch_revision(r, &name);
        let spec = build_revision(
            p,
            at,
            name.clone(),
            &r,
            &self.autoscaler,
            &self.defaults,
            &self.deployment,
            &startup,
            base_dir,
        )?;
        self.revisions.push(PlaneRev {
            name,
            annotations: to_string_map(&r.annotations),
            alive: true,
        });
        Some(spec)
    }

    /// `kubectl apply` of a Service: a changed template stamps a new
    /// revision; the traffic block is replaced.
    pub(super) fn apply_service(
        &mut self,
        p: &mut Problems,
        s: &ServiceManifest,
        raw: &RawScenario,
        base_dir: &Path,
    ) -> (Option<Box<RevisionSpec>>, Vec<TrafficTarget>) {
        let saved = p.doc.replace(s.doc.clone());
        let before = p.list.len();
        if s.name != self.service && !p.revisions_unknown {
            p.push(
                "metadata.name",
                format!(
                    "the scenario simulates Service {:?}, not {:?}",
                    self.service, s.name
                ),
            );
        }
        let t = &s.template;
        let key = (t.name.clone(), t.content.clone());
        let mut rev = None;
        if self.template.as_ref() != Some(&key) {
            let name = t.name.clone().unwrap_or_else(|| self.next_name());
            let app = raw.app.revision.get(&name);
            let r = RawRevision {
                name: Some(name.clone()),
                container_concurrency: t.container_concurrency,
                timeout_seconds: t.timeout_seconds,
                service_time: app
                    .and_then(|a| a.service_time.clone())
                    .or_else(|| raw.app.service_time.clone()),
                slowdown: app
                    .and_then(|a| a.slowdown.clone())
                    .or_else(|| raw.app.slowdown.clone()),
                annotations: t
                    .annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), ConfigValue::String(v.clone())))
                    .collect(),
                pod_startup: app
                    .and_then(|a| a.pod_startup.clone())
                    .or_else(|| raw.app.pod_startup.clone()),
                message: app.and_then(|a| a.message.clone()),
                usage: None,
                resources: Some(RawResources {
                    requests: text_table(&t.resources.requests),
                    limits: text_table(&t.resources.limits),
                }),
                failure_probability: app
                    .and_then(|a| a.failure_probability)
                    .or(raw.app.failure_probability),
            };
            let at = |f: &str| match f {
                "name" => "spec.template.metadata.name".to_string(),
                "containerConcurrency" | "timeoutSeconds" => format!("spec.template.spec.{f}"),
                "annotations" => "spec.template.metadata.annotations".to_string(),
                f if f.starts_with("resources.") => format!("spec.template.spec.containers[].{f}"),
                "service-time" => {
                    format!("(app.revision.{name:?}.service-time or app.service-time)")
                }
                other => format!("(app.revision.{name:?}.{other})"),
            };
            if r.service_time.is_none() {
                p.push(
                    at("service-time"),
                    format!(
                        "is required for revision {name:?}: the manifest cannot say how long a request takes"
                    ),
                );
            } else {
                rev = self.create(p, &at, &r, base_dir).map(Box::new);
            }
            self.template = Some(key);
        }
        let traffic = default_traffic(s.traffic.clone().unwrap_or_else(|| {
            vec![TrafficTarget {
                percent: Some(100),
                latest_revision: Some(true),
                ..Default::default()
            }]
        }));
        // A revision that failed validation would only add a follow-on error.
        if p.list.len() == before {
            self.check_revision_names(p, &traffic, "spec.traffic");
        }
        p.doc = saved;
        (rev, traffic)
    }

    pub(super) fn check_revision_names(
        &self,
        p: &mut Problems,
        traffic: &[TrafficTarget],
        prefix: &str,
    ) {
        for (i, t) in traffic.iter().enumerate() {
            if let Some(n) = t.revision_name.as_deref().filter(|n| !n.is_empty()) {
                if self.alive(n).is_none() && p.references_checked(n) {
                    p.push(format!("{prefix}[{i}].revisionName"), self.no_revision(n));
                }
            }
        }
    }

    pub(super) fn set_config(
        &mut self,
        p: &mut Problems,
        kind: ConfigMapKind,
        map: BTreeMap<String, String>,
        prefix: &str,
    ) -> bool {
        let before = p.list.len();
        match kind {
            ConfigMapKind::Autoscaler => match AutoscalerConfig::from_map(&map) {
                Ok(c) => self.autoscaler = c,
                Err(e) => p.extend(prefix, e),
            },
            ConfigMapKind::Defaults => match DefaultsConfig::from_map(&map) {
                Ok(c) => self.defaults = c,
                Err(e) => p.extend(prefix, e),
            },
            ConfigMapKind::Deployment => match DeploymentConfig::from_map(&map) {
                Ok(c) => self.deployment = c,
                Err(e) => p.extend(prefix, e),
            },
            ConfigMapKind::Network => match NetworkConfig::from_map(&map) {
                Ok(c) => self.network = c,
                Err(e) => p.extend(prefix, e),
            },
        }
        if kind == ConfigMapKind::Autoscaler {
            let cap = p.limits.max_pods;
            super::limits::check_config_scales(p, prefix, &self.autoscaler, cap);
        }
        self.maps[kind_index(kind)] = map;
        p.list.len() == before
    }

    pub(super) fn configs(&self) -> ClusterConfigs {
        ClusterConfigs {
            autoscaler: self.autoscaler.clone(),
            defaults: self.defaults.clone(),
            deployment: self.deployment.clone(),
            network: self.network.clone(),
        }
    }
}

/// The timeline's entries as (time, index), in time order; entries at the
/// same time keep the file's order. An entry at or after the end of the run,
/// or with an unreadable time, is a problem and left out.
pub(super) fn timed_steps(
    p: &mut Problems,
    raw: &RawScenario,
    duration: SimDuration,
) -> Vec<(SimTime, usize)> {
    let mut timed: Vec<(SimTime, usize)> = Vec::new();
    for (i, st) in raw.timeline.iter().enumerate() {
        match st.at.duration(&format!("timeline[{i}].at")) {
            Ok(d) if d >= duration && duration > SimDuration::ZERO => p.push(
                format!("timeline[{i}].at"),
                format!("{d} is not before the end of the run ({duration})"),
            ),
            Ok(d) => timed.push((SimTime::ZERO + d, i)),
            Err(e) => {
                let (field, rule) = workload_problem(&e);
                p.push(field, rule);
            }
        }
    }
    timed.sort_by_key(|&(t, i)| (t, i));
    timed
}

/// Validates `[[timeline]]` in time order against the state the scenario
/// starts with. Also returns every tag some traffic block of the timeline
/// defines (workloads may address them).
pub(super) fn build(
    p: &mut Problems,
    plane: &mut Plane,
    raw: &RawScenario,
    base_dir: &Path,
    duration: SimDuration,
) -> (Vec<TimelineStep>, BTreeSet<String>) {
    let mut tags = BTreeSet::new();
    let timed = timed_steps(p, raw, duration);
    let mut steps = Vec::new();
    for (at, i) in timed {
        let st = &raw.timeline[i];
        let f = |s: &str| format!("timeline[{i}].{s}");
        let mut actions = Vec::new();

        let mut configs_changed = false;
        for (kind, table) in [
            (ConfigMapKind::Autoscaler, &st.autoscaler),
            (ConfigMapKind::Defaults, &st.defaults),
            (ConfigMapKind::Deployment, &st.deployment),
            (ConfigMapKind::Network, &st.network),
        ] {
            if let Some(t) = table {
                let mut m = plane.maps[kind_index(kind)].clone();
                for (k, v) in to_string_map(t) {
                    m.insert(k, v);
                }
                let section = match kind {
                    ConfigMapKind::Autoscaler => "autoscaler",
                    ConfigMapKind::Defaults => "defaults",
                    ConfigMapKind::Deployment => "deployment",
                    ConfigMapKind::Network => "network",
                };
                configs_changed |= plane.set_config(p, kind, m, &f(section));
            }
        }
        if configs_changed {
            actions.push(TimelineAction::Configs(Box::new(plane.configs())));
        }

        if let Some(svc) = st.service.as_ref().filter(|s| **s != plane.service) {
            p.push(
                f("service"),
                format!(
                    "the scenario has one Service, {:?}, not {svc:?}",
                    plane.service
                ),
            );
        }

        for file in st.apply.list() {
            let Some(manifests) = load_file(p, base_dir, file) else {
                continue;
            };
            for m in manifests {
                match m {
                    Manifest::ConfigMap(c) => {
                        let saved = p.doc.replace(c.doc.clone());
                        if plane.set_config(p, c.kind, c.data.clone(), "data") {
                            actions.push(TimelineAction::Configs(Box::new(plane.configs())));
                        }
                        p.doc = saved;
                    }
                    Manifest::Service(s) => {
                        actions::apply_service(p, plane, &s, raw, base_dir, &mut tags, &mut actions)
                    }
                    Manifest::Eventing(e) => actions::refuse_eventing(p, &e),
                }
            }
        }

        actions::revision_and_traffic(p, plane, st, i, base_dir, &mut tags, &mut actions);

        let other_service = st
            .annotate
            .as_ref()
            .and_then(|a| a.service.as_ref().filter(|s| **s != plane.service));
        if let Some(svc) = other_service {
            p.push(
                f("annotate.service"),
                format!(
                    "the scenario has one Service, {:?}, not {svc:?}",
                    plane.service
                ),
            );
        }
        if let Some(a) = st.annotate.as_ref().filter(|_| other_service.is_none()) {
            actions::annotate(p, plane, a, i, &mut actions);
        }

        if let Some(name) = &st.delete_revision {
            actions::delete_revision(p, plane, name, i, &mut actions);
        }

        if let Some(svc) = &st.delete_service {
            if *svc == plane.service {
                actions::delete_service(p, plane, i, &mut actions);
            } else {
                p.push(
                    f("delete-service"),
                    format!(
                        "the scenario has one Service, {:?}, not {svc:?}",
                        plane.service
                    ),
                );
            }
        }

        if !actions.is_empty() {
            steps.push(TimelineStep {
                at,
                service: 0,
                actions,
            });
        }
    }
    (steps, tags)
}

/// Knative's traffic defaulting: `latestRevision` is true exactly when no
/// revisionName is given.
pub(super) fn default_traffic(mut t: Vec<TrafficTarget>) -> Vec<TrafficTarget> {
    for target in &mut t {
        if target.latest_revision.is_none() && target.configuration_name.is_none() {
            target.latest_revision = Some(target.revision_name.is_none());
        }
    }
    t
}

/// Quantity strings of a manifest as scenario values.
fn text_table(m: &BTreeMap<String, String>) -> ConfigTable {
    m.iter()
        .map(|(k, v)| (k.clone(), ConfigValue::String(v.clone())))
        .collect()
}
