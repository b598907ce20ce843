//! The changes a `[[timeline]]` entry makes to one Service, validated
//! against that Service's state ([`Plane`]): a manifest apply, a new
//! revision, a traffic block, an annotation, deleting a revision or the
//! Service. Shared by the single-Service timeline and the one of a scenario
//! with several Services, so both follow the same rules.

use super::problems::Problems;
use super::raw::{to_string_map, RawAnnotate, RawScenario, RawTimelineStep};
use super::spec::TimelineAction;
use super::timeline::{default_traffic, Plane};
use crate::knative::annotations::RevisionAnnotations;
use crate::knative::route::validate_traffic;
use crate::manifest::eventing::EventingManifest;
use crate::manifest::ServiceManifest;
use std::collections::BTreeSet;
use std::path::Path;

impl Plane {
    /// Whether the Service was deleted earlier; if so, `field` is reported:
    /// a deleted Service is not re-created by the timeline.
    pub(super) fn gone(&self, p: &mut Problems, field: &str) -> bool {
        if self.deleted {
            p.push(
                field,
                format!(
                    "Service {:?} was deleted by an earlier entry; the timeline does not \
                     re-create a deleted Service",
                    self.name()
                ),
            );
        }
        self.deleted
    }
}

/// `kubectl apply` of a Service document: a changed template creates a
/// revision; the traffic block (and rollout annotation) is replaced.
pub(super) fn apply_service(
    p: &mut Problems,
    plane: &mut Plane,
    s: &ServiceManifest,
    raw: &RawScenario,
    base_dir: &Path,
    tags: &mut BTreeSet<String>,
    actions: &mut Vec<TimelineAction>,
) {
    if plane.deleted {
        let saved = p.doc.replace(s.doc.clone());
        plane.gone(p, "metadata.name");
        p.doc = saved;
        return;
    }
    let (rev, traffic) = plane.apply_service(p, s, raw, base_dir);
    if let Some(r) = rev {
        actions.push(TimelineAction::CreateRevision(r));
    }
    tags.extend(traffic.iter().filter_map(|t| t.tag.clone()));
    plane.set_traffic(traffic.clone(), s.rollout_duration);
    actions.push(TimelineAction::Traffic {
        targets: traffic,
        rollout_duration: s.rollout_duration,
    });
}

/// The entry's `revision` and `traffic`, in that order.
pub(super) fn revision_and_traffic(
    p: &mut Problems,
    plane: &mut Plane,
    st: &RawTimelineStep,
    i: usize,
    base_dir: &Path,
    tags: &mut BTreeSet<String>,
    actions: &mut Vec<TimelineAction>,
) {
    let f = |s: &str| format!("timeline[{i}].{s}");
    if let Some(r) = &st.revision {
        let at = |s: &str| f(&format!("revision.{s}"));
        if !plane.gone(p, &f("revision")) {
            if let Some(spec) = plane.create(p, &at, r, base_dir) {
                actions.push(TimelineAction::CreateRevision(Box::new(spec)));
            }
        }
    }
    if let Some(t) = &st.traffic {
        if plane.gone(p, &f("traffic")) {
            return;
        }
        let before = p.list.len();
        p.extend("", validate_traffic(t, &f("traffic")));
        let t = default_traffic(t.clone());
        plane.check_revision_names(p, &t, &f("traffic"));
        if p.list.len() == before {
            tags.extend(t.iter().filter_map(|t| t.tag.clone()));
            let rollout = plane.rollout_duration();
            plane.set_traffic(t.clone(), rollout);
            actions.push(TimelineAction::Traffic {
                targets: t,
                rollout_duration: rollout,
            });
        }
    }
}

/// `annotate` of one of the Service's revisions.
pub(super) fn annotate(
    p: &mut Problems,
    plane: &mut Plane,
    a: &RawAnnotate,
    i: usize,
    actions: &mut Vec<TimelineAction>,
) {
    let f = |s: &str| format!("timeline[{i}].{s}");
    if plane.gone(p, &f("annotate")) {
        return;
    }
    let Some(ri) = plane.alive(&a.revision) else {
        if p.references_checked(&a.revision) {
            p.push(f("annotate.revision"), plane.no_revision(&a.revision));
        }
        return;
    };
    let autoscaler = plane.configs().autoscaler;
    let mut m = plane.annotations_of(ri).clone();
    let before = RevisionAnnotations::parse(&m, &autoscaler).unwrap_or_default();
    for (k, v) in to_string_map(&a.annotations) {
        if v.is_empty() {
            m.remove(&k);
        } else {
            m.insert(k, v);
        }
    }
    match RevisionAnnotations::parse(&m, &autoscaler).and_then(|a| a.check_same_class(&before)) {
        Ok(ann) => {
            let cap = p.limits.max_pods;
            super::limits::check_annotation_scales(p, &f("annotate.annotations"), &ann, cap);
            plane.set_annotations(ri, m);
            actions.push(TimelineAction::Annotate {
                revision: plane.engine_name(&a.revision),
                annotations: Box::new(ann),
            });
        }
        Err(e) => p.extend(&f("annotate.annotations"), e),
    }
}

/// `delete-revision`: not the newest revision, and not one a
/// `revisionName` target still routes to.
pub(super) fn delete_revision(
    p: &mut Problems,
    plane: &mut Plane,
    name: &str,
    i: usize,
    actions: &mut Vec<TimelineAction>,
) {
    let field = format!("timeline[{i}].delete-revision");
    if plane.gone(p, &field) {
        return;
    }
    let Some(ri) = plane.alive(name) else {
        if p.references_checked(name) {
            p.push(field, plane.no_revision(name));
        }
        return;
    };
    if plane.newest_alive() == Some(ri) {
        p.push(
            field,
            format!(
                "{name:?} is the newest revision; Knative's Configuration would create it again"
            ),
        );
    } else if let Some(j) = plane.routed_by(name) {
        p.push(
            field,
            format!("{name:?} is still routed by traffic[{j}]; change the traffic first"),
        );
    } else {
        plane.kill(ri);
        actions.push(TimelineAction::DeleteRevision(plane.engine_name(name)));
    }
}

/// `delete-service`: the Service, its route and its revisions go.
pub(super) fn delete_service(
    p: &mut Problems,
    plane: &mut Plane,
    i: usize,
    actions: &mut Vec<TimelineAction>,
) {
    if plane.gone(p, &format!("timeline[{i}].delete-service")) {
        return;
    }
    plane.deleted = true;
    actions.push(TimelineAction::DeleteService);
}

/// Eventing documents in a timeline `apply`: the Broker, Triggers and
/// sources are built once, before the start, so a change during the run is
/// refused at the document's `kind`.
pub(super) fn refuse_eventing(p: &mut Problems, e: &EventingManifest) {
    let saved = p.doc.replace(e.doc().clone());
    p.push(
        "kind",
        "Eventing objects are read from `manifests = [...]` before the start; \
         applying them on the timeline is not modelled",
    );
    p.doc = saved;
}
