//! Scenario files: loading, `--set` overrides, and validation into the typed
//! [`Scenario`] that the simulation trusts.
//!
//! Loading reads in one direction: the text ([`raw`], serde structs with
//! unknown keys denied) becomes one typed, validated [`Scenario`]
//! ([`spec`]); nothing in the model parses again. Every error names the
//! file, the field path, the line and column where the input has them, and
//! the rule that was broken. The files, in the order they are used:
//!
//! - `raw.rs`: the file as written;
//! - `locate.rs`: positions in the text and `--set` applied to it;
//! - `error.rs`, `problems.rs`: located problems and their collection;
//! - `revision.rs`, `timeline.rs`, `limits.rs`: the rules;
//! - `spec.rs`: the result.

pub mod cluster;
mod error;
pub mod eventing;
mod functions;
mod limits;
mod locate;
mod problems;
pub mod raw;
mod revision;
mod services;
mod services_timeline;
pub mod slo;
pub mod spec;
pub mod timeline;
mod timeline_actions;
pub mod usage;
pub mod window;

pub use error::{clip, clip_field, Origin, Override, Problem, ScenarioError};
pub use locate::locate_field;
use problems::Problems;
use raw::{to_string_map, RawScenario, RawServices};
use revision::{build_revision, build_startup, workload_problem};
pub use spec::{
    ClusterConfigs, ClusterSpec, Limits, RevisionSpec, Scenario, ServiceSpec, StartupModel,
    TimelineAction, TimelineStep, DEFAULT_SEED,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::knative::config::{AutoscalerConfig, DefaultsConfig, DeploymentConfig, NetworkConfig};
use crate::knative::route::{
    compute_traffic, is_dns1035_label, validate_traffic, TrafficConfig, TrafficTarget,
};
use crate::sim::{SimDuration, SimTime};
use crate::workload::{build_workloads, DurationValue};

/// Reads a scenario file as UTF-8 text; invalid UTF-8 is a parse error at
/// the line and column of the first bad byte.
pub fn read_scenario_text(path: &Path) -> Result<String, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..good]);
        let (line, column) = locate::line_col(&prefix, prefix.len());
        ScenarioError::Parse {
            path: path.to_path_buf(),
            problem: Box::new(Problem {
                field: "(file)".into(),
                rule: "invalid UTF-8: a scenario file must be UTF-8 text".into(),
                origin: Origin::Position { line, column },
            }),
        }
    })
}

/// Reads, overrides and validates a scenario file.
pub fn load_scenario(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let text = read_scenario_text(path)?;
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
    let (text, raw, deferred) = if overrides.is_empty() {
        let raw = match first {
            Ok(raw) => raw,
            Err(_) => deserialize_all(text, path, overrides)?,
        };
        (text.to_string(), raw, Vec::new())
    } else {
        if let Err(e) = &first {
            // An override may fix a type error, but never a syntax error.
            if text.parse::<toml_edit::DocumentMut>().is_err() {
                return Err(parse_error(path, text, e, overrides));
            }
        }
        let (patched, deferred) = locate::apply_overrides(text, overrides)?;
        let raw = deserialize_all(&patched, path, overrides)?;
        (patched, raw, deferred)
    };
    validate(
        raw,
        &text,
        path,
        default_name,
        base_dir,
        overrides,
        deferred,
    )
}

/// Most type errors reported from one file.
const MAX_TYPE_ERRORS: usize = 50;

/// Deserialises the scenario, reporting every type error and unknown key
/// rather than the first: each offending entry is taken out and the rest
/// read again. Positions are those of `text`.
fn deserialize_all(
    text: &str,
    path: &Path,
    overrides: &[Override],
) -> Result<RawScenario, ScenarioError> {
    let mut err = match toml::from_str::<RawScenario>(text) {
        Ok(raw) => return Ok(raw),
        Err(e) => e,
    };
    let Ok(mut doc) = text.parse::<toml_edit::DocumentMut>() else {
        return Err(parse_error(path, text, &err, overrides));
    };
    let mut cur = text.to_string();
    let mut problems: Vec<Problem> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    while problems.len() < MAX_TYPE_ERRORS {
        let field = locate::key_at(&cur, err.span().map(|s| s.start)).unwrap_or_default();
        // Taking out a required entry makes its table incomplete; that is
        // not a problem of its own.
        if err.message().starts_with("missing field")
            && removed.iter().any(|r| r.starts_with(&field))
        {
            break;
        }
        let mut problem = parse_problem(&cur, &err, overrides);
        if !problems.is_empty() {
            if let Origin::Position { .. } = problem.origin {
                problem.origin = match locate::find(text, &field) {
                    Some((line, column)) => Origin::Position { line, column },
                    None => Origin::Unknown,
                };
            }
        }
        if removed.contains(&field) {
            break;
        }
        problems.push(problem);
        if field.is_empty() || !locate::remove(&mut doc, &field) {
            break;
        }
        removed.push(field);
        cur = doc.to_string();
        match toml::from_str::<RawScenario>(&cur) {
            Ok(_) => break,
            Err(e) => err = e,
        }
    }
    if problems.len() == 1 {
        return Err(ScenarioError::Parse {
            path: path.to_path_buf(),
            problem: Box::new(problems.remove(0)),
        });
    }
    Err(ScenarioError::Invalid {
        path: path.to_path_buf(),
        problems,
    })
}

fn parse_error(
    path: &Path,
    text: &str,
    e: &toml::de::Error,
    overrides: &[Override],
) -> ScenarioError {
    ScenarioError::Parse {
        path: path.to_path_buf(),
        problem: Box::new(parse_problem(text, e, overrides)),
    }
}

fn parse_problem(text: &str, e: &toml::de::Error, overrides: &[Override]) -> Problem {
    let (line, column) = e
        .span()
        .map(|s| locate::line_col(text, s.start))
        .unwrap_or((0, 0));
    let mut msg = e.message().trim().to_string();
    if msg.is_empty() {
        // The TOML parser gives no words for some bad characters.
        let bad = e
            .span()
            .and_then(|s| text.get(s.start..).and_then(|t| t.chars().next()));
        msg = match bad {
            Some(c) if c.is_control() => format!(
                "invalid character {c:?}: TOML allows no control characters other than tab, \
                 not even in comments"
            ),
            Some(c) => format!("invalid character {c:?}"),
            None => "invalid TOML".into(),
        };
    }
    let msg = error::user_words(&msg);
    let field = locate::key_at(text, e.span().map(|s| s.start)).unwrap_or_default();
    let origin = match overrides
        .iter()
        .find(|o| !field.is_empty() && locate::same_path(&o.key, &field))
    {
        Some(o) => Origin::Override(o.to_string()),
        None if line > 0 => Origin::Position { line, column },
        None => Origin::Unknown,
    };
    Problem {
        field: if field.is_empty() {
            "(document)".into()
        } else {
            clip_field(&field)
        },
        rule: clip(&msg),
        origin,
    }
}

fn duration_field(
    p: &mut Problems,
    field: &str,
    v: &Option<DurationValue>,
    default: SimDuration,
) -> SimDuration {
    match v {
        None => default,
        Some(v) => match v.duration(field) {
            Ok(d) => d,
            Err(e) => {
                let (f, rule) = workload_problem(&e);
                p.push(f, rule);
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
    deferred: Vec<Override>,
) -> Result<Scenario, ScenarioError> {
    let mut p = Problems {
        text,
        overrides,
        list: Vec::new(),
        doc: None,
        limits: Limits::default(),
        failed_revisions: BTreeSet::new(),
        revisions_unknown: false,
        deferred_used: vec![false; deferred.len()],
        deferred,
        created: Vec::new(),
        prefix: String::new(),
    };
    p.limits = limits::parse(&mut p, &raw.limits);
    let lim = p.limits.clone();

    let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
    if let Some(rule) = limits::name_problem(&name) {
        p.push("name", rule);
    }
    let service = match &raw.service {
        Some(RawServices::Name(n)) => n.clone(),
        _ => "service".to_string(),
    };
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
                "is required: how much simulated time to run, e.g. \"10m\" or 600 (seconds)",
            );
            None
        }
        Some(v) => match v.duration("duration") {
            Ok(d) if d == SimDuration::ZERO => {
                p.push("duration", "must be greater than 0");
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                let (f, rule) = workload_problem(&e);
                p.push(f, rule);
                None
            }
        },
    };
    // Without a valid duration, checks against the end of the run would
    // only repeat the duration's problem.
    let horizon = duration.map_or(SimTime::MAX, |d| SimTime::ZERO + d);
    let duration = duration.unwrap_or(SimDuration::ZERO);
    let window = window::build(&mut p, &raw.warmup, &raw.measure, duration);

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
    limits::check_config_scales(&mut p, "autoscaler", &autoscaler, lim.max_pods);

    let c = &raw.cluster;
    let activators = c.activators.unwrap_or(1);
    if activators == 0 {
        p.push(
            "cluster.activators",
            "must be at least 1 (Knative always runs an activator)",
        );
    }
    limits::check_activators(&mut p, activators, &lim);
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
        max_replicas: lim.max_pods,
        nodes: cluster::build_nodes(
            &mut p,
            &c.node_pool,
            &c.autoscaler,
            &c.scoring_strategy,
            max_pods,
            base_dir,
        ),
    };
    let cluster_startup = build_startup(
        &mut p,
        "cluster.pod-startup",
        &c.pod_startup,
        None,
        base_dir,
    );

    let multi = services::is_multi(&raw, &initial);
    let (service, revisions, traffic, route, steps, workloads, service_list) = if multi {
        let shared = services::Shared {
            maps: [autoscaler_map, defaults_map, deployment_map, network_map],
            autoscaler: &autoscaler,
            defaults: &defaults,
            deployment: &deployment,
            network: &network,
            startup: &cluster_startup,
            base_dir,
            horizon,
        };
        let mut b = services::build(&mut p, &raw, &initial, &shared);
        let (steps, later_tags) =
            services_timeline::build(&mut p, &raw, &shared, &mut b.planes, duration);
        for (field, svc, tag) in &b.missing_tags {
            if !later_tags[*svc].contains(tag) {
                let name = &b.services[*svc].name;
                p.push(
                    field.clone(),
                    format!("no traffic target of Service {name:?} has tag {tag:?}"),
                );
            }
        }
        let first = b.services.first();
        (
            first.map_or(service, |s| s.name.clone()),
            b.revisions,
            first.map(|s| s.traffic.clone()).unwrap_or_default(),
            first.map_or_else(
                || TrafficConfig {
                    default: vec![],
                    tags: Default::default(),
                },
                |s| s.route.clone(),
            ),
            steps,
            b.workloads,
            b.services,
        )
    } else {
        let service = match initial.service_name() {
            Some(n) if !matches!(raw.service, Some(RawServices::Name(_))) => n.to_string(),
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
            let default_name = format!("{service}-{:05}", i + 1);
            let r = p.patch_revision(r, r.name.as_deref().unwrap_or(&default_name));
            if let Some(rev) = build_revision(
                &mut p,
                &at,
                default_name,
                &r,
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
        let traffic = timeline::default_traffic(traffic);
        p.extend("", validate_traffic(&traffic, "traffic"));
        for (i, t) in traffic.iter().enumerate() {
            if let Some(n) = &t.revision_name {
                if !revisions.iter().any(|r| &r.name == n)
                    && !revisions.is_empty()
                    && p.references_checked(n)
                {
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

        // Events may be the only load.
        if raw.workload.is_empty() && raw.eventing.is_none() && !has_eventing_manifest(&initial) {
            p.push("workload", "at least one [[workload]] is required");
        }
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
        let services = vec![ServiceSpec {
            name: service.clone(),
            revisions: 0..revisions.len(),
            traffic: traffic.clone(),
            route: route.clone(),
            sources: 0..workloads.as_ref().map_or(0, |w| w.sources.len()),
            rollout_duration: initial.rollout_duration(),
        }];
        (
            service, revisions, traffic, route, steps, workloads, services,
        )
    };

    let raw_eventing = eventing::with_manifests(&mut p, raw.eventing.as_ref(), initial.manifests());
    let eventing = match &raw_eventing {
        Some(e) => {
            let names: Vec<String> = service_list.iter().map(|s| s.name.clone()).collect();
            eventing::build(&mut p, e, &raw.load, &names, base_dir, horizon)
        }
        None => None,
    };

    let slo = raw.slo.as_ref().and_then(|table| {
        let locate = |field: &str| locate_field(p.text, p.overrides, field);
        match slo::Slo::from_table(table, &locate) {
            Ok(slo) => Some(slo),
            Err(problems) => {
                p.list.extend(problems);
                None
            }
        }
    });
    p.unused_overrides();
    if let (true, Some(w)) = (p.list.is_empty(), &workloads) {
        let mut all: Vec<&RevisionSpec> = revisions.iter().collect();
        for st in &steps {
            for a in &st.actions {
                if let TimelineAction::CreateRevision(r) = a {
                    all.push(r);
                }
            }
        }
        // Each event of a stream source reaches every Trigger at least once,
        // so the run costs at least that many requests.
        let mut with_events = w.clone();
        if let Some(ev) = &eventing {
            for src in &ev.sources {
                if let eventing::EventSourceKind::Stream(s) = &src.kind {
                    for _ in 0..ev.triggers.len().max(1) {
                        with_events.sources.push(s.clone());
                    }
                }
            }
        }
        let shape = limits::RunShape {
            workloads: &with_events,
            revisions: all,
            activators: cluster.activators,
            duration,
            load_factor: raw.load.speedup.unwrap_or(1.0) * raw.load.rate_multiplier.unwrap_or(1.0),
        };
        limits::check_cost(&mut p, &shape, &lim);
    }
    let hpa = usage::build_hpa_settings(&mut p, &raw.hpa);
    if !p.list.is_empty() {
        return Err(ScenarioError::Invalid {
            path: path.to_path_buf(),
            problems: p.list,
        });
    }
    Ok(Scenario {
        hpa,
        name,
        description: raw.description,
        service,
        seed: raw.seed.unwrap_or(DEFAULT_SEED),
        duration,
        window,
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
        slo,
        timeline: steps,
        rollout_duration: if multi {
            None
        } else {
            initial.rollout_duration()
        },
        limits: lim,
        services: service_list,
        multi_service: multi,
        eventing,
    })
}

/// Whether a manifest defines an Eventing object (events may then be the
/// only load).
fn has_eventing_manifest(initial: &timeline::InitialManifests) -> bool {
    initial
        .manifests()
        .iter()
        .any(|m| matches!(m, crate::manifest::Manifest::Eventing(_)))
}
