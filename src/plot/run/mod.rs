//! Charts of one run, from its summary and timeseries.

mod cluster;
mod decisions;
mod draw;
mod eventing;
mod latency;
mod pods;
mod requests;
mod series;
mod services;
mod traffic;

pub use decisions::{decisions_chart, decisions_html, DecisionLog, DecisionRow};
pub(crate) use latency::fmt_ms;
pub(crate) use pods::READY_COLOR;

use super::error::PlotError;
use crate::model::{Summary, TimeseriesRow};
use latency::{cdf_svg, latency_svg};
use pods::pods_svg;
use requests::requests_svg;
use series::prepare;
use services::services_svg;
use std::path::Path;
use traffic::{share_window, traffic_svg};

/// One drawn chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// File name to write it under (`pods.svg`).
    pub file_name: String,
    /// Title, also used as the report's heading for it.
    pub title: String,
    /// One or two sentences on how to read it.
    pub description: String,
    /// The SVG document.
    pub svg: String,
}

/// What a run wrote: its summary and every timeseries row.
#[derive(Clone, Debug, PartialEq)]
pub struct RunData {
    /// `summary.json`.
    pub summary: Summary,
    /// `timeseries.csv`, in file order (by second, then revision).
    pub rows: Vec<TimeseriesRow>,
}

impl RunData {
    /// Reads `dir/summary.json` and `dir/timeseries.csv`.
    pub fn load(dir: &Path) -> Result<RunData, PlotError> {
        let sp = dir.join("summary.json");
        let text = std::fs::read_to_string(&sp).map_err(|source| PlotError::Io {
            path: sp.clone(),
            source,
        })?;
        let mut summary: Summary =
            serde_json::from_str(&text).map_err(|source| PlotError::Json { path: sp, source })?;
        let cp = dir.join("cluster.csv");
        if summary.cluster.is_some() && cp.exists() {
            summary.cluster_rows = cluster::read_cluster_csv(&cp)?;
        }
        let tp = dir.join("timeseries.csv");
        let mut rdr = csv::Reader::from_path(&tp).map_err(|source| PlotError::Csv {
            path: tp.clone(),
            source,
        })?;
        let rows = rdr
            .deserialize()
            .collect::<Result<Vec<TimeseriesRow>, _>>()
            .map_err(|source| PlotError::Csv { path: tp, source })?;
        Ok(RunData { summary, rows })
    }
}

/// Runs longer than this many seconds are drawn from buckets of several
/// seconds, so a day-long trace still makes a small SVG.
pub const MAX_POINTS: usize = 1500;

/// Draws every chart of a run, in report order: requests, pods, latency
/// over time, latency distribution, traffic share.
pub fn run_charts(data: &RunData) -> Result<Vec<Chart>, PlotError> {
    let p = prepare(data)?;
    let per = if p.step > 1 {
        format!(" Runs longer than {MAX_POINTS} s are drawn in {}-second steps (rates and queues averaged, pod counts and p99 at the step's maximum).", p.step)
    } else {
        String::new()
    };
    let mut charts = vec![
        Chart {
            file_name: "requests.svg".into(),
            title: "Requests over time".into(),
            description: format!("Top: requests arriving, answered 200 and failed (503/504) per second. Bottom: requests in the system (activator queue, queue-proxy and app) and those buffered in the activator, at the end of each second.{per}"),
            svg: requests_svg(&p)?,
        },
        Chart {
            file_name: "pods.svg".into(),
            title: "Pods over time".into(),
            description: format!("Per revision: the decider's desired scale, Ready pods and pods created but not yet Ready. Red bands mark panic mode; blue bands mark the activator in the request path (SKS proxy mode).{per}"),
            svg: pods_svg(&p)?,
        },
        Chart {
            file_name: "latency.svg".into(),
            title: "Latency over time".into(),
            description: format!("Median and 99th-percentile latency of each second's successful requests, per revision, on a log scale. Gaps are seconds without a completed request.{per}"),
            svg: latency_svg(&p)?,
        },
    ];
    if !data.summary.latency_distribution.is_empty() {
        charts.push(Chart {
            file_name: "latency-cdf.svg".into(),
            title: "Latency distribution".into(),
            description: "All successful requests of the run. Left: the share of requests answered within a given latency. Right: the same quantiles with the tail stretched out (each step right is ten times rarer).".into(),
            svg: cdf_svg(data)?,
        });
    }
    if let Some(c) = &data.summary.cluster {
        if !data.summary.cluster_rows.is_empty() {
            charts.push(Chart {
                file_name: "cluster.svg".into(),
                title: "Cluster".into(),
                description: format!(
                    "Top: nodes Ready, being provisioned and being deleted, and pods waiting for a node, at the end of each second. Bottom: CPU and memory requested by pods as a share of what Ready nodes can allocate. Peak {} nodes, mean {:.2}; {:.2} node-hours costing {:.2}; {} pods found no node when created, {} started after waiting for one.{}",
                    c.peak_nodes, c.mean_nodes, c.node_hours, c.cost, c.unschedulable_events, c.cold_starts_waited_for_node,
                    if c.nodes_drained > 0 {
                        format!(
                            " Drained nodes: {}; evicted pods: {}; cold starts of their replacements: {}.",
                            c.nodes_drained, c.pods_evicted, c.eviction_cold_starts
                        )
                    } else {
                        String::new()
                    }
                ),
                svg: cluster::cluster_svg(&data.summary.cluster_rows, data.summary.simulated_seconds)?,
            });
        }
    }
    charts.push(Chart {
        file_name: "traffic.svg".into(),
        title: "Traffic share".into(),
        description: format!(
            "Share of routed requests per revision, over windows of {} s.",
            share_window(p.step)
        ),
        svg: traffic_svg(&p)?,
    });
    if let (Some(ev), true) = (&data.summary.eventing, eventing::has_columns(data)) {
        let attempts: u64 = ev.triggers.iter().map(|t| t.attempts).sum();
        let matched: u64 = ev.triggers.iter().map(|t| t.matched).sum();
        charts.push(Chart {
            file_name: "eventing.svg".into(),
            title: "Event deliveries".into(),
            description: format!(
                "Per second over every Trigger: delivery attempts reaching the subscriber Services (first tries plus retries), first tries alone, deliveries answered 2xx and events dead-lettered. The gap between the top two lines is the load retries add: {attempts} attempts for {matched} matched events in this run.{per}"
            ),
            svg: eventing::eventing_svg(data)?,
        });
    }
    if !data.summary.services.is_empty() {
        charts.push(Chart {
            file_name: "services.svg".into(),
            title: "Services".into(),
            description: format!(
                "One small chart per Service: Ready pods (blue) and pods created but not yet Ready (orange) over all its revisions. Each title gives the Service's requests and cold starts; each chart has its own pod scale.{per}"
            ),
            svg: services_svg(&p, &data.summary)?,
        });
    }
    Ok(charts)
}
