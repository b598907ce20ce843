//! What a run may cost on this machine. `[limits]` bounds the estimated
//! number of events, the requests in the system at once, the pods of a
//! revision and the activators; a scenario beyond them is refused by
//! `knsim validate` (and so by `run`), naming the field and the limit,
//! instead of exhausting memory or running for ever. `--set limits.…=N`
//! raises a bound for a machine that can take more.
//!
//! Also here: the check of names that become folder names.

use super::problems::Problems;
use super::raw::RawLimits;
use super::spec::{Limits, RevisionSpec};
use crate::knative::annotations::RevisionAnnotations;
use crate::knative::config::AutoscalerConfig;
use crate::knative::error::FieldError;
use crate::sim::SimDuration;
use crate::workload::Workloads;

/// Events per request: arrival, routing, start of service, response, with
/// room for a detour through the activator.
const EVENTS_PER_REQUEST: f64 = 6.0;
/// Events per simulated second of each revision: autoscaler ticks,
/// scrapes and its timeseries row.
const EVENTS_PER_REVISION_SECOND: f64 = 4.0;
/// Events per simulated second of a pod kept by min-scale (probes, stats).
const EVENTS_PER_POD_SECOND: f64 = 1.0;
/// Events per simulated second of an activator (its stats reports).
const EVENTS_PER_ACTIVATOR_SECOND: f64 = 1.0;

pub(super) fn parse(p: &mut Problems, raw: &RawLimits) -> Limits {
    let d = Limits::default();
    let mut count = |field: &str, v: Option<f64>, default: f64| match v {
        None => default,
        Some(x) if x.is_finite() && x >= 1.0 => x,
        Some(x) => {
            p.push(
                format!("limits.{field}"),
                format!("must be a number of at least 1, got {x}"),
            );
            default
        }
    };
    let max_events = count("max-events", raw.max_events, d.max_events);
    let max_requests_in_flight = count(
        "max-requests-in-flight",
        raw.max_requests_in_flight,
        d.max_requests_in_flight,
    );
    let max_timeseries_rows = count(
        "max-timeseries-rows",
        raw.max_timeseries_rows,
        d.max_timeseries_rows,
    );
    let mut whole = |field: &str, v: Option<u32>, default: u32| match v {
        None => default,
        Some(0) => {
            p.push(format!("limits.{field}"), "must be at least 1");
            default
        }
        Some(n) => n,
    };
    Limits {
        max_events,
        max_requests_in_flight,
        max_pods: whole("max-pods", raw.max_pods, d.max_pods),
        max_activators: whole("max-activators", raw.max_activators, d.max_activators),
        max_timeseries_rows,
    }
}

fn raise(field: &str) -> String {
    format!("raise it with --set limits.{field}=N if this machine can take more")
}

/// Checks the scale bounds of `config-autoscaler` against `max-pods`.
pub(super) fn check_config_scales(
    p: &mut Problems,
    prefix: &str,
    cfg: &AutoscalerConfig,
    max_pods: u32,
) {
    for (key, v) in [
        ("min-scale", cfg.min_scale),
        ("initial-scale", cfg.initial_scale),
    ] {
        if i64::from(v) > i64::from(max_pods) {
            p.push(
                format!("{prefix}.{key}"),
                format!(
                    "{key} {v} is more than the {max_pods} pods a revision may have \
                     (limits.max-pods); {}",
                    raise("max-pods")
                ),
            );
        }
    }
}

/// Checks a revision's scale annotations against `max-pods`.
pub(super) fn check_annotation_scales(
    p: &mut Problems,
    prefix: &str,
    ann: &RevisionAnnotations,
    max_pods: u32,
) {
    let mut errs = Vec::new();
    for (key, v) in [
        ("min-scale", ann.min_scale),
        ("initial-scale", ann.initial_scale),
        ("activation-scale", ann.activation_scale),
    ] {
        if let Some(v) = v.filter(|v| i64::from(*v) > i64::from(max_pods)) {
            errs.push(FieldError::new(
                format!("autoscaling.knative.dev/{key}"),
                format!(
                    "{key} {v} is more than the {max_pods} pods a revision may have \
                     (limits.max-pods); {}",
                    raise("max-pods")
                ),
            ));
        }
    }
    p.extend(prefix, errs);
}

/// Checks the activator count.
pub(super) fn check_activators(p: &mut Problems, activators: u32, limits: &Limits) {
    if activators > limits.max_activators {
        p.push(
            "cluster.activators",
            format!(
                "{activators} activators are more than limits.max-activators = {}; {}",
                limits.max_activators,
                raise("max-activators")
            ),
        );
    }
}

/// What the whole run is expected to cost.
pub(super) struct RunShape<'a> {
    pub workloads: &'a Workloads,
    /// Every revision that will exist (at the start or from the timeline).
    pub revisions: Vec<&'a RevisionSpec>,
    pub activators: u32,
    pub duration: SimDuration,
    /// `load.speedup × load.rate-multiplier`, to name in messages.
    pub load_factor: f64,
}

/// Compares the run's estimated events and requests in flight with the
/// limits; a problem names the workload that contributes most.
pub(super) fn check_cost(p: &mut Problems, shape: &RunShape, limits: &Limits) {
    let secs = shape.duration.as_secs_f64();
    let per_source: Vec<f64> = shape
        .workloads
        .sources
        .iter()
        .map(|s| s.expected_requests())
        .collect();
    let requests: f64 = per_source.iter().sum();
    let floor_pods: f64 = shape
        .revisions
        .iter()
        .map(|r| f64::from(r.scaling.min_scale.max(r.scaling.initial_scale).max(0)))
        .sum();
    let revisions = shape.revisions.len().max(1) as f64;
    let events = EVENTS_PER_REQUEST * requests
        + secs
            * (revisions * EVENTS_PER_REVISION_SECOND
                + floor_pods * EVENTS_PER_POD_SECOND
                + f64::from(shape.activators) * EVENTS_PER_ACTIVATOR_SECOND);
    let busiest = per_source.iter().enumerate().fold(
        None,
        |best: Option<(usize, f64)>, (i, &n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((i, n)),
        },
    );
    let load = if shape.load_factor != 1.0 {
        format!(
            " after load.speedup × load.rate-multiplier = {}",
            num(shape.load_factor)
        )
    } else {
        String::new()
    };
    if events.is_nan() || events > limits.max_events {
        let field = match busiest {
            Some((i, n)) if EVENTS_PER_REQUEST * n * 2.0 >= events || !n.is_finite() => {
                format!("workload[{i}].arrival")
            }
            _ => "duration".to_string(),
        };
        p.push(
            field,
            format!(
                "the run would take about {} simulation events ({} expected requests{load} \
                 over {secs} s), more than limits.max-events = {}; shorten the run or lower \
                 the load, or {}",
                num(events),
                num(requests),
                num(limits.max_events),
                raise("max-events")
            ),
        );
        return;
    }
    let rows = secs.ceil() * revisions;
    if rows.is_nan() || rows > limits.max_timeseries_rows {
        p.push(
            "duration",
            format!(
                "timeseries.csv would have {} rows (one per simulated second and revision), \
                 more than limits.max-timeseries-rows = {}; shorten the run, or {}",
                num(rows),
                num(limits.max_timeseries_rows),
                raise("max-timeseries-rows")
            ),
        );
        return;
    }
    let lifetime = shape
        .revisions
        .iter()
        .map(|r| (r.timeout + r.scaling.activation_timeout()).as_secs_f64())
        .fold(0.0, f64::max)
        .min(secs);
    let per_source: Vec<f64> = shape
        .workloads
        .sources
        .iter()
        .map(|s| s.max_in_flight(lifetime))
        .collect();
    let in_flight: f64 = per_source.iter().sum();
    if in_flight.is_nan() || in_flight > limits.max_requests_in_flight {
        let i = per_source
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0);
        p.push(
            format!("workload[{i}].arrival"),
            format!(
                "up to {} requests could be in the system at once (peak rate{load} × \
                 {lifetime} s that a request may wait), more than \
                 limits.max-requests-in-flight = {}; lower the load, or {}",
                num(in_flight),
                num(limits.max_requests_in_flight),
                raise("max-requests-in-flight")
            ),
        );
    }
}

/// A count for messages: plain up to a million, then in e-notation.
fn num(x: f64) -> String {
    if x.is_finite() && x.abs() < 1e6 {
        format!("{}", (x * 100.0).round() / 100.0)
    } else {
        format!("{x:.2e}")
    }
}

/// Longest scenario name: it becomes a folder name, and file systems stop
/// at 255 bytes.
pub const MAX_NAME_LEN: usize = 100;

/// Why `name` cannot name the output folder, if it cannot.
pub(super) fn name_problem(name: &str) -> Option<String> {
    let rule = format!(
        "must be 1 to {MAX_NAME_LEN} characters without '/', '\\' or control characters, \
         and not \".\" or \"..\" (it names the output folder results/<name>/)"
    );
    let bad = name.is_empty()
        || name.chars().count() > MAX_NAME_LEN
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    bad.then_some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_fit_a_folder() {
        assert!(name_problem("greeter-tutorial").is_none());
        assert!(name_problem("my scenario").is_none());
        assert!(name_problem("a\0b").is_some());
        assert!(name_problem(&"x".repeat(300)).is_some());
        assert!(name_problem("..").is_some());
        assert!(name_problem("a/b").is_some());
        assert!(name_problem("").is_some());
    }
}
