//! `[[timeline]]` of a scenario with several Services. ConfigMap changes are
//! cluster-wide; every other change names the Service it changes (`service`
//! on the entry, `annotate.service`, `delete-service`, or the Service
//! documents of an `apply`) and is validated against that Service's own
//! revisions and route, with the rules of the single-Service timeline.

use super::problems::Problems;
use super::raw::to_string_map;
use super::services::Shared;
use super::spec::{TimelineAction, TimelineStep};
use super::timeline::{load_file, Plane};
use super::timeline_actions as actions;
use super::RawScenario;
use crate::manifest::{ConfigMapKind, Manifest};
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeSet;

/// The actions of one entry, grouped into runs that change one Service.
struct Groups {
    at: SimTime,
    steps: Vec<TimelineStep>,
}

impl Groups {
    fn actions(&mut self, service: usize) -> &mut Vec<TimelineAction> {
        if self.steps.last().is_none_or(|s| s.service != service) {
            self.steps.push(TimelineStep {
                at: self.at,
                service,
                actions: Vec::new(),
            });
        }
        &mut self.steps.last_mut().expect("pushed above").actions
    }

    /// A cluster-wide change joins whatever run comes last.
    fn cluster(&mut self, a: TimelineAction) {
        let svc = self.steps.last().map_or(0, |s| s.service);
        self.actions(svc).push(a);
    }
}

/// The Services' names, for messages.
fn known(planes: &[Plane]) -> String {
    planes
        .iter()
        .map(|pl| format!("{:?}", pl.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn find(planes: &[Plane], name: &str) -> Option<usize> {
    planes.iter().position(|pl| pl.name() == name)
}

/// Validates the timeline against `planes` (each Service's state at the
/// start, in Service order), which it changes as it goes. Also returns the
/// tags that some traffic block of the timeline defines, by Service.
pub(super) fn build(
    p: &mut Problems,
    raw: &RawScenario,
    sh: &Shared,
    planes: &mut [Plane],
    duration: SimDuration,
) -> (Vec<TimelineStep>, Vec<BTreeSet<String>>) {
    // The cluster's ConfigMaps in effect, step by step.
    let mut cluster = Plane::new(
        "",
        sh.maps.clone(),
        (sh.autoscaler, sh.defaults, sh.deployment, sh.network),
        &[],
        &[],
    );
    let mut tags = vec![BTreeSet::new(); planes.len()];
    let timed = super::timeline::timed_steps(p, raw, duration);
    let mut steps = Vec::new();
    for (at, i) in timed {
        let st = &raw.timeline[i];
        let f = |s: &str| format!("timeline[{i}].{s}");
        let mut g = Groups {
            at,
            steps: Vec::new(),
        };
        let mut changed = false;
        for (kind, table, section) in [
            (ConfigMapKind::Autoscaler, &st.autoscaler, "autoscaler"),
            (ConfigMapKind::Defaults, &st.defaults, "defaults"),
            (ConfigMapKind::Deployment, &st.deployment, "deployment"),
            (ConfigMapKind::Network, &st.network, "network"),
        ] {
            if let Some(t) = table {
                let mut m = cluster.map(kind).clone();
                m.extend(to_string_map(t));
                changed |= cluster.set_config(p, kind, m, &f(section));
            }
        }
        if changed {
            for pl in planes.iter_mut() {
                pl.copy_configs(&cluster);
            }
            g.cluster(TimelineAction::Configs(Box::new(cluster.configs())));
        }

        // `None` with a problem reported when the entry names no Service
        // (or an unknown one).
        let named = match &st.service {
            Some(n) => match find(planes, n) {
                Some(k) => Some(k),
                None => {
                    p.push(
                        f("service"),
                        format!("no Service is named {n:?} (Services: {})", known(planes)),
                    );
                    None
                }
            },
            None => None,
        };
        let needs: Vec<&str> = [
            ("revision", st.revision.is_some()),
            ("traffic", st.traffic.is_some()),
            ("delete-revision", st.delete_revision.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, used)| used.then_some(k))
        .collect();
        if st.service.is_none() && !needs.is_empty() {
            p.push(
                f("service"),
                format!(
                    "is required with several Services: which Service `{}` changes (Services: {})",
                    needs.join("`, `"),
                    known(planes)
                ),
            );
        }

        for file in st.apply.list() {
            let Some(manifests) = load_file(p, sh.base_dir, file) else {
                continue;
            };
            for m in manifests {
                match m {
                    Manifest::ConfigMap(c) => {
                        let saved = p.doc.replace(c.doc.clone());
                        if cluster.set_config(p, c.kind, c.data.clone(), "data") {
                            for pl in planes.iter_mut() {
                                pl.copy_configs(&cluster);
                            }
                            g.cluster(TimelineAction::Configs(Box::new(cluster.configs())));
                        }
                        p.doc = saved;
                    }
                    Manifest::Eventing(e) => actions::refuse_eventing(p, &e),
                    Manifest::Service(s) => {
                        let Some(k) = find(planes, &s.name) else {
                            let saved = p.doc.replace(s.doc.clone());
                            p.push(
                                "metadata.name",
                                format!(
                                    "no Service is named {:?}: the timeline changes the \
                                     scenario's Services, it does not add one (Services: {})",
                                    s.name,
                                    known(planes)
                                ),
                            );
                            p.doc = saved;
                            continue;
                        };
                        if let Some(n) = st.service.as_ref().filter(|n| **n != s.name) {
                            p.push(
                                f("service"),
                                format!("is {n:?}, but {file} applies Service {:?}", s.name),
                            );
                            continue;
                        }
                        let out = g.actions(k);
                        actions::apply_service(
                            p,
                            &mut planes[k],
                            &s,
                            raw,
                            sh.base_dir,
                            &mut tags[k],
                            out,
                        );
                    }
                }
            }
        }

        if let Some(k) = named {
            let out = g.actions(k);
            actions::revision_and_traffic(p, &mut planes[k], st, i, sh.base_dir, &mut tags[k], out);
        }

        // A labelled block: a bad annotate ends only the annotate.
        'annotate: {
            let Some(a) = &st.annotate else {
                break 'annotate;
            };
            let svc = match (&a.service, &st.service) {
                (Some(s), Some(e)) if s != e => {
                    p.push(
                        f("annotate.service"),
                        format!("is {s:?}, but the entry's service is {e:?}"),
                    );
                    break 'annotate;
                }
                (Some(s), _) | (None, Some(s)) => s,
                (None, None) => {
                    p.push(
                        f("annotate.service"),
                        format!(
                            "is required with several Services: which Service's revision to \
                             annotate (Services: {})",
                            known(planes)
                        ),
                    );
                    break 'annotate;
                }
            };
            let Some(k) = find(planes, svc) else {
                if a.service.is_some() {
                    p.push(
                        f("annotate.service"),
                        format!("no Service is named {svc:?} (Services: {})", known(planes)),
                    );
                }
                break 'annotate;
            };
            let out = g.actions(k);
            actions::annotate(p, &mut planes[k], a, i, out);
        }

        if let (Some(name), Some(k)) = (&st.delete_revision, named) {
            let out = g.actions(k);
            actions::delete_revision(p, &mut planes[k], name, i, out);
        }

        if let Some(svc) = &st.delete_service {
            match find(planes, svc) {
                Some(k) if st.service.as_ref().is_none_or(|e| e == svc) => {
                    let out = g.actions(k);
                    actions::delete_service(p, &mut planes[k], i, out);
                }
                Some(_) => p.push(
                    f("delete-service"),
                    format!(
                        "is {svc:?}, but the entry's service is {:?}",
                        st.service.as_deref().unwrap_or_default()
                    ),
                ),
                None => p.push(
                    f("delete-service"),
                    format!("no Service is named {svc:?} (Services: {})", known(planes)),
                ),
            }
        }

        steps.extend(g.steps.into_iter().filter(|s| !s.actions.is_empty()));
    }
    (steps, tags)
}
