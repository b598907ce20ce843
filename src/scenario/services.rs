//! Several Knative Services in one scenario: `[[service]]` tables and
//! manifests with more than one Service. Each Service is validated as a
//! single-Service scenario's revisions, traffic block and workloads are,
//! with its field paths under `service[i]`; the ConfigMaps, the cluster and
//! the activators are shared.

use super::functions::expand_per_function;
use super::problems::Problems;
use super::raw::{RawService, RawServices};
use super::revision::{build_revision, workload_problem};
use super::spec::{RevisionSpec, ServiceSpec, StartupModel};
use super::timeline::{self, InitialManifests, Plane};
use super::RawScenario;
use crate::knative::config::{AutoscalerConfig, DefaultsConfig, DeploymentConfig, NetworkConfig};
use crate::knative::route::{
    compute_traffic, is_dns1035_label, validate_traffic, TrafficConfig, TrafficTarget,
};
use crate::manifest::Manifest;
use crate::sim::SimTime;
use crate::workload::{build_workloads, Workloads};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The cluster-wide settings every Service's revisions are built with.
pub(super) struct Shared<'a> {
    pub(super) maps: [BTreeMap<String, String>; 4],
    pub(super) autoscaler: &'a AutoscalerConfig,
    pub(super) defaults: &'a DefaultsConfig,
    pub(super) deployment: &'a DeploymentConfig,
    pub(super) network: &'a NetworkConfig,
    pub(super) startup: &'a StartupModel,
    pub(super) base_dir: &'a Path,
    pub(super) horizon: SimTime,
}

/// What the Services add up to: every revision (grouped by Service, in
/// Service order), every source, and each Service's share of them.
pub(super) struct Built {
    pub(super) revisions: Vec<RevisionSpec>,
    /// Each Service's control-plane state at the start, in `services`
    /// order (the timeline is validated against it).
    pub(super) planes: Vec<Plane>,
    /// Workload tags no traffic target defines at the start: (field,
    /// Service index, tag).
    pub(super) missing_tags: Vec<(String, usize, String)>,
    pub(super) workloads: Option<Workloads>,
    pub(super) services: Vec<ServiceSpec>,
}

/// Whether the scenario is written in the several-Services form: with
/// `[[service]]` tables, or with manifests that define more than one Service.
pub(super) fn is_multi(raw: &RawScenario, initial: &InitialManifests) -> bool {
    matches!(raw.service, Some(RawServices::Tables(_))) || initial.service_names().len() > 1
}

/// Validates every Service of a several-Services scenario.
pub(super) fn build(
    p: &mut Problems,
    raw: &RawScenario,
    initial: &InitialManifests,
    sh: &Shared,
) -> Built {
    for (field, used) in [
        ("revision", !raw.revision.is_empty()),
        ("traffic", raw.traffic.is_some()),
        ("workload", !raw.workload.is_empty()),
    ] {
        if used {
            p.push(
                field,
                format!(
                    "with several Services, each `{field}` belongs to a [[service]] table \
                     (service.{field}), not to the top level"
                ),
            );
        }
    }
    let tables: Vec<RawService> = match &raw.service {
        Some(RawServices::Tables(t)) => t.clone(),
        _ => Vec::new(),
    };
    let tables = expand_per_function(p, tables, sh.base_dir);
    let manifest_names = initial.service_names();
    let mut names: Vec<String> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        match &t.name {
            None => p.push(
                format!("service[{i}].name"),
                "is required: every [[service]] names its Knative Service",
            ),
            Some(n) if !is_dns1035_label(n) => p.push(
                format!("service[{i}].name"),
                "must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter)",
            ),
            Some(n) if names.contains(n) => p.push(
                format!("service[{i}].name"),
                format!("duplicate Service name {n:?}"),
            ),
            Some(n) => names.push(n.clone()),
        }
    }
    // A manifest Service without a table of its own gets no workload.
    let mut order: Vec<(Option<usize>, String)> = tables
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.name.clone().map(|n| (Some(i), n)))
        .collect();
    for n in &manifest_names {
        if !order.iter().any(|(_, m)| m == n) {
            order.push((None, n.clone()));
        }
    }

    let mut built = Built {
        revisions: Vec::new(),
        planes: Vec::new(),
        missing_tags: Vec::new(),
        workloads: Some(Workloads {
            sources: Vec::new(),
        }),
        services: Vec::new(),
    };
    let mut all_sources = BTreeSet::new();
    for (index, name) in order {
        let empty = RawService::default();
        let t = index.map_or(&empty, |i| &tables[i]);
        let prefix = index.map_or_else(String::new, |i| format!("service[{i}]."));
        let saved = std::mem::replace(&mut p.prefix, prefix.clone());
        let start = built.revisions.len();
        let svc = one_service(p, raw, initial, sh, &name, t, &mut built.revisions);
        p.prefix = saved;
        let Some((traffic, route, plane)) = svc else {
            continue;
        };
        let rollout_duration = plane.rollout_duration();
        built.planes.push(plane);
        let src_start = built.workloads.as_ref().map_or(0, |w| w.sources.len());
        match build_workloads(&t.workload, &raw.load, sh.base_dir, sh.horizon) {
            Ok(w) => {
                for (k, s) in w.sources.iter().enumerate() {
                    if !all_sources.insert(s.name.clone()) {
                        p.push(
                            format!("{prefix}workload[{k}].name"),
                            format!(
                                "the name {:?} is used by a workload of an earlier Service",
                                s.name
                            ),
                        );
                    }
                    if let Some(tag) = &s.tag {
                        if !route.tags.contains_key(tag) {
                            // A later traffic block of the timeline may
                            // define it: checked once the timeline is.
                            built.missing_tags.push((
                                format!("{prefix}workload[{k}].tag"),
                                built.services.len(),
                                tag.clone(),
                            ));
                        }
                    }
                }
                if let Some(all) = &mut built.workloads {
                    all.sources.extend(w.sources);
                }
            }
            Err(errs) => {
                for e in errs {
                    let (field, rule) = workload_problem(&e);
                    p.push(format!("{prefix}{field}"), rule);
                }
                built.workloads = None;
            }
        }
        let src_end = built
            .workloads
            .as_ref()
            .map_or(src_start, |w| w.sources.len());
        built.services.push(ServiceSpec {
            name,
            revisions: start..built.revisions.len(),
            traffic,
            route,
            sources: src_start..src_end,
            rollout_duration,
        });
    }
    if built.services.is_empty() && p.list.is_empty() {
        p.push("service", "at least one [[service]] is required");
    }
    // A Service without a workload is an idle tenant (it may still keep
    // min-scale pods), but a run with no request at all measures nothing.
    // Events may be the only load.
    if built
        .workloads
        .as_ref()
        .is_some_and(|w| w.sources.is_empty())
        && p.list.is_empty()
        && raw.eventing.is_none()
        && !super::has_eventing_manifest(initial)
    {
        p.push(
            "service",
            "no [[service.workload]] in any Service: at least one is required",
        );
    }
    built
}

/// A Service's traffic block, resolved route, and its control-plane state.
type OneService = (Vec<TrafficTarget>, TrafficConfig, Plane);

/// One Service's revisions (appended to `revisions`), traffic block and
/// resolved route; `None` when its route could not be resolved.
fn one_service(
    p: &mut Problems,
    raw: &RawScenario,
    initial: &InitialManifests,
    sh: &Shared,
    name: &str,
    t: &RawService,
    revisions: &mut Vec<RevisionSpec>,
) -> Option<OneService> {
    let first = revisions.len();
    for (i, r) in t.revision.iter().enumerate() {
        let at = |f: &str| format!("revision[{i}].{f}");
        let default_name = format!("{name}-{:05}", i + 1);
        // `--set revision.<name or index>.…` reaches revisions of every
        // Service by their plain name or their place in the whole scenario.
        let r = p.patch_revision(r, r.name.as_deref().unwrap_or(&default_name));
        if let Some(rev) = build_revision(
            p,
            &at,
            default_name,
            &r,
            sh.autoscaler,
            sh.defaults,
            sh.deployment,
            sh.startup,
            sh.base_dir,
        ) {
            revisions.push(rev);
        }
    }
    let mut plane = Plane::new(
        name,
        sh.maps.clone(),
        (sh.autoscaler, sh.defaults, sh.deployment, sh.network),
        &revisions[first..],
        &t.revision,
    );
    plane.startup = Some(sh.startup.clone());
    plane.qualify = true;
    let mut manifest_traffic = None;
    let mut rollout = None;
    for m in initial.manifests() {
        let Manifest::Service(s) = m else { continue };
        if s.name != name {
            continue;
        }
        if t.traffic.is_some() {
            p.push(
                "traffic",
                "is also set by the Service manifest; give the traffic block in one place",
            );
        }
        let (rev, tr) = plane.apply_service(p, s, raw, sh.base_dir);
        if let Some(r) = rev {
            revisions.push(*r);
        }
        manifest_traffic = Some(tr);
        rollout = s.rollout_duration;
    }
    let mine = &revisions[first..];
    if mine.is_empty() && !initial.failed {
        p.push(
            "revision",
            format!("Service {name:?} has no revision: give a [[service.revision]] or a manifest"),
        );
        return None;
    }
    let mut seen = BTreeSet::new();
    for (i, r) in mine.iter().enumerate() {
        if !seen.insert(r.name.clone()) {
            p.push(
                format!("revision[{i}].name"),
                format!(
                    "duplicate revision name {:?} (names are unique within a Service)",
                    r.name
                ),
            );
        }
    }
    let traffic = manifest_traffic.or(t.traffic.clone()).unwrap_or_else(|| {
        vec![TrafficTarget {
            percent: Some(100),
            latest_revision: Some(true),
            ..Default::default()
        }]
    });
    let traffic = timeline::default_traffic(traffic);
    let before = p.list.len();
    p.extend("", validate_traffic(&traffic, "traffic"));
    for (i, tt) in traffic.iter().enumerate() {
        if let Some(n) = &tt.revision_name {
            if !mine.iter().any(|r| &r.name == n) && p.references_checked(n) {
                p.push(
                    format!("traffic[{i}].revisionName"),
                    format!("revision {n:?} is not a revision of Service {name:?}"),
                );
            }
        }
    }
    if p.list.len() > before {
        return None;
    }
    let latest = mine.last().map(|r| r.name.clone());
    match compute_traffic(&traffic, latest.as_deref()) {
        Ok(route) => {
            plane.set_traffic(traffic.clone(), rollout);
            Some((traffic, route, plane))
        }
        Err(e) => {
            p.extend("", vec![e]);
            None
        }
    }
}
