//! `knsim merge`: combine sweep shards into the files one machine would write.

use crate::stdout::{out, outln};
use crate::sweep::{pareto_table, report_written};
use clap::Args;
use knsim::sweep::merge as merge_dirs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct MergeArgs {
    /// Sweep output directories (one per shard).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Directory for the merged sweep.json, runs.csv and summary.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn merge(a: MergeArgs) -> anyhow::Result<ExitCode> {
    let merged = merge_dirs(&a.dirs, &a.out)?;
    if !a.quiet {
        outln!(
            "merged {} director{} of sweep {}: {} runs",
            a.dirs.len(),
            if a.dirs.len() == 1 { "y" } else { "ies" },
            merged.manifest.scenario_name,
            merged.runs
        )?;
        out!(
            "{}",
            pareto_table(
                &merged.manifest.vary,
                &merged.summaries,
                &merged.manifest.pareto_latency
            )
        )?;
        outln!("{}", report_written(&a.out))?;
    }
    Ok(ExitCode::SUCCESS)
}
