//! A revision's `[revision.usage]` table: what each request costs a pod in
//! CPU and memory, for the resource model that metrics-server and the HPA
//! read. Absent, a revision uses no resource model unless it is HPA-class.

use super::problems::Problems;
use super::revision::workload_problem;
use crate::kubernetes::quantity::parse_quantity;
use crate::workload::{Dist, DistSpec};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `[revision.usage]` as written.
#[derive(Clone, Debug, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawUsage {
    /// CPU time one request uses, at one core (default: its service time).
    pub cpu_per_request: Option<DistSpec>,
    /// Working set of an idle pod, a quantity such as `"128Mi"`.
    pub memory_baseline: Option<String>,
    /// Working set added by each request the pod holds, e.g. `"2Mi"`.
    pub memory_per_request: Option<String>,
}

/// The validated usage model of one revision.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// CPU seconds per request; `None` = the request's service time at one
    /// core (no extra random draw).
    pub cpu_per_request: Option<Dist>,
    /// Bytes of an idle pod.
    pub memory_baseline: i64,
    /// Bytes per request held.
    pub memory_per_request: i64,
}

/// Checks `raw` (at field path `path`).
pub(super) fn build_usage(
    p: &mut Problems,
    path: &str,
    raw: &RawUsage,
    base_dir: &Path,
) -> Option<Usage> {
    let before = p.list.len();
    let cpu = raw.cpu_per_request.as_ref().and_then(|d| {
        d.build(&format!("{path}.cpu-per-request"), base_dir)
            .map_err(|e| {
                let (f, r) = workload_problem(&e);
                p.push(f, r);
            })
            .ok()
    });
    let mut bytes = |name: &str, v: &Option<String>| -> i64 {
        let Some(s) = v else { return 0 };
        match parse_quantity(s) {
            Ok(q) if q.value() >= 0 => q.value(),
            Ok(_) => {
                p.push(
                    format!("{path}.{name}"),
                    format!("must not be negative, got {s:?}"),
                );
                0
            }
            Err(e) => {
                p.push(
                    format!("{path}.{name}"),
                    format!("{e} (a quantity such as \"128Mi\")"),
                );
                0
            }
        }
    };
    let memory_baseline = bytes("memory-baseline", &raw.memory_baseline);
    let memory_per_request = bytes("memory-per-request", &raw.memory_per_request);
    (p.list.len() == before).then_some(Usage {
        cpu_per_request: cpu,
        memory_baseline,
        memory_per_request,
    })
}
