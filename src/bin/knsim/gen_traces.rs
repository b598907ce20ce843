//! `knsim gen-traces`: write the synthetic sample traces.

use crate::stdout::outln;
use anyhow::Context;
use clap::Args;
use knsim::workload::samples::{generate, SAMPLE_SEED};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct GenTracesArgs {
    /// Directory to write the sample traces into (created if missing).
    pub dir: PathBuf,
    /// Seed of the generator; the shipped files use the default.
    #[arg(long, default_value_t = SAMPLE_SEED, allow_negative_numbers = true, value_parser = crate::values::seed)]
    pub seed: u64,
}

pub fn gen_traces(a: GenTracesArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create {}", a.dir.display()))?;
    let files = generate(&a.dir, a.seed).context("cannot write the sample traces")?;
    for f in files {
        outln!("wrote {}", f.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
