//! One revision from its raw table (or a manifest's template), checked
//! against the ConfigMaps in effect when it is created.

use super::problems::Problems;
use super::raw::{to_string_map, RawRevision, RawStartup};
use super::spec::{RevisionSpec, StartupModel};
use crate::knative::annotations::RevisionAnnotations;
use crate::knative::config::{AutoscalerConfig, DefaultsConfig, DeploymentConfig};
use crate::knative::kpa::resolve_revision_scaling;
use crate::knative::queue_resources;
use crate::knative::route::is_dns1035_label;
use crate::kubernetes::resources::{ContainerResources, PodResources};
use crate::sim::SimDuration;
use crate::workload::{Dist, DistSpec, DurationValue, Slowdown, WorkloadError};
use std::path::Path;

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

pub(super) fn build_startup(
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
pub(super) fn build_revision(
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
    // Read once into the type the model uses; Knative's int64 limit may
    // allow more than a pod could ever hold.
    let cc = if cc < 0 || cc > defaults.container_concurrency_max_limit {
        p.push(
            at("containerConcurrency"),
            format!(
                "expected 0 <= {cc} <= {} (config-defaults container-concurrency-max-limit)",
                defaults.container_concurrency_max_limit
            ),
        );
        0
    } else {
        u32::try_from(cc).unwrap_or_else(|_| {
            p.push(
                at("containerConcurrency"),
                format!("{cc} is more than the simulator can hold ({})", u32::MAX),
            );
            0
        })
    };
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
    if let Ok(a) = &annotations {
        let cap = p.limits.max_pods;
        super::limits::check_annotation_scales(p, &at("annotations"), a, cap);
    }
    let resources = build_resources(p, at, r, defaults, deployment);
    let usage = r
        .usage
        .as_ref()
        .map(|u| super::usage::build_usage(p, &at("usage"), u, base_dir));
    let startup = match &r.pod_startup {
        Some(s) => build_startup(p, &at("pod-startup"), s, Some(cluster_startup), base_dir),
        None => cluster_startup.clone(),
    };
    let failure_probability = r.failure_probability.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&failure_probability) {
        p.push(
            at("failure-probability"),
            format!("expected 0 <= {failure_probability} <= 1 (a probability)"),
        );
    }
    if p.list.len() > before {
        p.failed_revisions.insert(name);
        return None;
    }
    let annotations = annotations.ok()?;
    let scaling = resolve_revision_scaling(autoscaler, deployment, cc, &annotations);
    Some(RevisionSpec {
        name,
        container_concurrency: cc,
        // Saturates: config-defaults may allow any int64 of seconds.
        timeout: SimDuration::from_secs_f64(timeout as f64),
        service_time: service_time.ok()?,
        slowdown: slowdown.ok()?,
        annotations,
        scaling,
        startup,
        message: r.message.clone(),
        resources: resources?,
        usage: usage.flatten(),
        failure_probability,
    })
}

/// The user container's requests and limits and the queue-proxy's, as the
/// revision reconciler and the API server leave them.
fn build_resources(
    p: &mut Problems,
    at: &dyn Fn(&str) -> String,
    r: &RawRevision,
    defaults: &DefaultsConfig,
    deployment: &DeploymentConfig,
) -> Option<PodResources> {
    let raw = r.resources.clone().unwrap_or_default();
    // Knative's webhook fills config-defaults into the revision before the
    // API server defaults requests from limits.
    let user = ContainerResources::parse_as_written(
        &to_string_map(&raw.requests),
        &to_string_map(&raw.limits),
    )
    .and_then(|mut c| {
        c.fill_absent_from(&defaults.revision_resources);
        c.admitted()
    })
    .map_err(|errs| {
        for e in errs {
            p.push(at(&format!("resources.{}", e.path)), e.rule);
        }
    });
    let annotations = to_string_map(&r.annotations);
    let bad = queue_resources::validate_annotations(&annotations);
    let failed = !bad.is_empty();
    p.extend(&at("annotations"), bad);
    let user = user.ok()?;
    if failed {
        return None;
    }
    let queue_proxy =
        queue_resources::queue_proxy_resources(&deployment.queue_sidecar, &annotations, &user);
    Some(PodResources { user, queue_proxy })
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
pub(super) fn workload_problem(e: &WorkloadError) -> (String, String) {
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
