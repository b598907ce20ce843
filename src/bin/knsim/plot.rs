//! `knsim plot`: charts and report for an existing result directory.

use crate::stdout::outln;
use anyhow::Context;
use clap::Args;
use knsim::plot::{write_run_plots, write_sweep_plots, ParetoSpec, PlotError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct PlotArgs {
    /// Result directory: a run's (summary.json + timeseries.csv) or a
    /// sweep's (summary.csv).
    pub dir: PathBuf,
    /// Sweeps: cost column for the x axis.
    #[arg(long, default_value = "pod_seconds_mean", value_name = "COLUMN")]
    pub cost: String,
    /// Sweeps: latency column for the y axis (and the heatmap's colour).
    #[arg(long, default_value = "latency_p99_ms_mean", value_name = "COLUMN")]
    pub latency: String,
    /// Sweeps: boolean column marking the Pareto front; computed from cost
    /// and latency when the table lacks it.
    #[arg(long, default_value = "pareto", value_name = "COLUMN")]
    pub pareto: String,
    /// Sweeps: metric column colouring the heatmap [default: --latency].
    #[arg(long, value_name = "COLUMN")]
    pub heatmap: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn plot(a: PlotArgs) -> anyhow::Result<ExitCode> {
    let has = |f: &str| a.dir.join(f).is_file();
    // A run writes timeseries.csv, a sweep summary.csv; summary.json alone
    // is still a run, whose missing timeseries is then reported.
    let written = if has("timeseries.csv") || (has("summary.json") && !has("summary.csv")) {
        write_run_plots(&a.dir)
    } else if has("summary.csv") {
        let mut spec = ParetoSpec::new(&a.cost, &a.latency);
        spec.pareto = Some(a.pareto.clone());
        write_sweep_plots(&a.dir, &spec, a.heatmap.as_deref())
    } else {
        eprintln!(
            "error: {} holds neither summary.json (a run) nor summary.csv (a sweep)",
            a.dir.display()
        );
        return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
    };
    report(written, &a.dir, a.quiet)
}

/// Plots a run that `knsim run --plot` just wrote.
pub fn after_run(dir: &Path, quiet: bool) -> anyhow::Result<ExitCode> {
    report(write_run_plots(dir), dir, quiet)
}

fn report(
    written: Result<Vec<PathBuf>, PlotError>,
    dir: &Path,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    match written {
        Ok(files) => {
            if !quiet {
                for f in files {
                    outln!("wrote      {}", f.display())?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_bad_input() => {
            eprintln!("error: cannot plot {}: {e}", dir.display());
            Ok(ExitCode::from(crate::EXIT_BAD_INPUT))
        }
        Err(e) => Err(e).with_context(|| format!("cannot plot {}", dir.display())),
    }
}
