//! Pictures of results: SVG charts drawn with `plotters` and a one-page HTML
//! report.
//!
//! Nothing here is used by the simulation: the charts are drawn from what a
//! run already wrote (`summary.json`, `timeseries.csv`) or from a sweep's
//! `summary.csv`, so the engine stays free of drawing code.
//!
//! Every renderer is a pure function returning the SVG text; only
//! [`write_run_plots`] and [`write_sweep_plots`] touch the file system.
//! Text is emitted as SVG `<text>` elements in the generic `sans-serif`
//! family, so drawing needs no fonts installed: the viewer picks one.
//!
//! Charts of one run (see [`run_charts`]):
//!
//! | file | what it shows |
//! | --- | --- |
//! | `requests.svg` | request rate (arrivals, completions, errors per second) and requests in flight / queued in the activator |
//! | `pods.svg` | desired, ready and pending pods per revision; panic mode and activator-in-path periods shaded |
//! | `latency.svg` | per-second p50 and p99 latency per revision (log scale) |
//! | `latency-cdf.svg` | the run's latency distribution: CDF and tail |
//! | `traffic.svg` | share of requests routed to each revision over time |
//! | `decisions.svg` | with `decisions.csv` only: the decider's wishes and decisions, each reconcile's want and the replicas |

mod error;
mod report;
mod run;
pub(crate) mod style;
mod sweep;

pub use error::PlotError;
pub use report::{report_html, report_html_with, sweep_report_html};
pub use run::{
    decisions_chart, decisions_html, run_charts, Chart, DecisionLog, DecisionRow, RunData,
    MAX_POINTS,
};
pub use style::{ACTIVATOR_SHADE_HEX, PANIC_SHADE_HEX, READY_HEX};
pub use sweep::{
    ci_columns, front_flags, heatmap_svg, pareto_front, pareto_svg, sweep_charts, HeatmapSpec,
    ParetoSpec, SweepTable, METRIC_SUFFIXES,
};

use crate::output::write_atomic;
use std::path::{Path, PathBuf};

/// File name of the HTML report written beside the charts.
pub const REPORT_FILE: &str = "report.html";

fn write_file(path: &Path, text: &str) -> Result<(), PlotError> {
    write_atomic(path, text.as_bytes()).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads `dir/summary.json` and `dir/timeseries.csv`, writes every chart of
/// [`run_charts`] and `dir/report.html` into `dir`, and returns the paths
/// written (charts first, report last).
pub fn write_run_plots(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let data = RunData::load(dir)?;
    let mut charts = run_charts(&data)?;
    let log = DecisionLog::load(dir)?;
    if let Some(log) = &log {
        charts.push(decisions_chart(log, data.summary.simulated_seconds)?);
    }
    let mut written = Vec::with_capacity(charts.len() + 1);
    for c in &charts {
        let p = dir.join(&c.file_name);
        write_file(&p, &c.svg)?;
        written.push(p);
    }
    let p = dir.join(REPORT_FILE);
    let extra = log.as_ref().map(decisions_html).unwrap_or_default();
    write_file(&p, &report_html_with(&data.summary, &charts, &extra))?;
    written.push(p);
    Ok(written)
}

/// Reads `dir/summary.csv` of a sweep, draws [`sweep_charts`] with the given
/// column choices, writes them and a `dir/report.html` holding the charts
/// and the table, and returns the paths written.
pub fn write_sweep_plots(
    dir: &Path,
    pareto: &ParetoSpec,
    heatmap_value: Option<&str>,
) -> Result<Vec<PathBuf>, PlotError> {
    let table = SweepTable::read(&dir.join("summary.csv"))?;
    let charts = sweep_charts(&table, pareto, heatmap_value)?;
    let mut written = Vec::with_capacity(charts.len() + 1);
    for c in &charts {
        let p = dir.join(&c.file_name);
        write_file(&p, &c.svg)?;
        written.push(p);
    }
    let p = dir.join(REPORT_FILE);
    write_file(
        &p,
        &sweep_report_html(&table, &charts, &front_flags(&table, pareto)?),
    )?;
    written.push(p);
    Ok(written)
}
