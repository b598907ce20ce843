//! `[[timeline]]` of a scenario with several Services: ConfigMap changes
//! (cluster-wide) and `annotate` of one Service's revision. Actions that
//! change a Service's revisions or route (`apply`, `revision`, `traffic`,
//! `delete-revision`) are refused for now, each with its own message.

use super::problems::Problems;
use super::raw::to_string_map;
use super::services::Shared;
use super::spec::{TimelineAction, TimelineStep};
use super::timeline::Plane;
use super::RawScenario;
use crate::knative::annotations::RevisionAnnotations;
use crate::manifest::ConfigMapKind;
use crate::sim::SimDuration;
use std::collections::BTreeMap;

/// Each Service's revisions (name and annotations as written), by Service.
pub(super) type Annotations = BTreeMap<String, Vec<(String, BTreeMap<String, String>)>>;

/// Validates the timeline; `revisions` are changed as annotations are.
pub(super) fn build(
    p: &mut Problems,
    raw: &RawScenario,
    sh: &Shared,
    revisions: &mut Annotations,
    duration: SimDuration,
) -> Vec<TimelineStep> {
    // The cluster's ConfigMaps in effect, step by step.
    let mut plane = Plane::new(
        "",
        sh.maps.clone(),
        (sh.autoscaler, sh.defaults, sh.deployment, sh.network),
        &[],
        &[],
    );
    let timed = super::timeline::timed_steps(p, raw, duration);
    let mut steps = Vec::new();
    for (at, i) in timed {
        let st = &raw.timeline[i];
        let f = |s: &str| format!("timeline[{i}].{s}");
        for (field, used) in [
            ("apply", !st.apply.list().is_empty()),
            ("revision", st.revision.is_some()),
            ("traffic", st.traffic.is_some()),
            ("delete-revision", st.delete_revision.is_some()),
        ] {
            if used {
                p.push(
                    f(field),
                    "is not supported yet in a scenario with several Services \
                     (ConfigMap changes and annotate are)",
                );
            }
        }
        let mut actions = Vec::new();
        let mut changed = false;
        for (kind, table, section) in [
            (ConfigMapKind::Autoscaler, &st.autoscaler, "autoscaler"),
            (ConfigMapKind::Defaults, &st.defaults, "defaults"),
            (ConfigMapKind::Deployment, &st.deployment, "deployment"),
            (ConfigMapKind::Network, &st.network, "network"),
        ] {
            if let Some(t) = table {
                let mut m = plane.map(kind).clone();
                m.extend(to_string_map(t));
                changed |= plane.set_config(p, kind, m, &f(section));
            }
        }
        if changed {
            actions.push(TimelineAction::Configs(Box::new(plane.configs())));
        }
        // A labelled block: a bad annotate ends only the annotate.
        'annotate: {
            let Some(a) = &st.annotate else {
                break 'annotate;
            };
            let Some(svc) = a.service.as_ref() else {
                p.push(
                    f("annotate.service"),
                    "is required with several Services: which Service's revision to annotate",
                );
                break 'annotate;
            };
            let Some(revs) = revisions.get_mut(svc) else {
                p.push(
                    f("annotate.service"),
                    format!("no Service is named {svc:?}"),
                );
                break 'annotate;
            };
            let Some(k) = revs.iter().position(|(n, _)| *n == a.revision) else {
                p.push(
                    f("annotate.revision"),
                    format!("Service {svc:?} has no revision {:?}", a.revision),
                );
                break 'annotate;
            };
            let mut m = revs[k].1.clone();
            let before =
                RevisionAnnotations::parse(&m, &plane.configs().autoscaler).unwrap_or_default();
            for (key, v) in to_string_map(&a.annotations) {
                if v.is_empty() {
                    m.remove(&key);
                } else {
                    m.insert(key, v);
                }
            }
            match RevisionAnnotations::parse(&m, &plane.configs().autoscaler)
                .and_then(|a| a.check_same_class(&before))
            {
                Ok(ann) => {
                    let cap = p.limits.max_pods;
                    super::limits::check_annotation_scales(
                        p,
                        &f("annotate.annotations"),
                        &ann,
                        cap,
                    );
                    revs[k].1 = m;
                    // The engine names revisions `service/revision`.
                    actions.push(TimelineAction::Annotate {
                        revision: format!("{svc}/{}", a.revision),
                        annotations: Box::new(ann),
                    });
                }
                Err(e) => p.extend(&f("annotate.annotations"), e),
            }
        }
        if !actions.is_empty() {
            steps.push(TimelineStep { at, actions });
        }
    }
    steps
}
