//! `knsim run` and `knsim validate`.

use anyhow::Context;
use clap::Args;
use knsim::model::simulate;
use knsim::output::{
    format_speed, format_summary, summary_json, write_atomic, CsvTimeseries, Speed,
};
use knsim::scenario::{load_scenario, Override};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options shared by every command that loads a scenario.
#[derive(Args, Clone, Debug)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a scenario value by its dotted path; repeatable.
    /// e.g. --set autoscaler.stable-window=30s --set revision.0.containerConcurrency=10
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Output directory [default: results/<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Master seed (overrides the scenario's `seed`).
    #[arg(long, allow_negative_numbers = true, value_parser = crate::values::seed)]
    pub seed: Option<u64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also draw SVG charts and report.html into the output directory.
    #[arg(long)]
    pub plot: bool,
}

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let sc = load_scenario(&a.scenario.scenario, &a.scenario.set)?;
    let seed = a.seed.unwrap_or(sc.seed);
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let ts_path = out.join("timeseries.csv");
    let mut ts = CsvTimeseries::create(&ts_path)
        .with_context(|| format!("cannot create {}", ts_path.display()))?;
    let mut sink = crate::progress::SimTimeProgress::new(
        &mut ts,
        sc.duration.as_secs_f64().ceil() as u64,
        a.quiet,
    );
    // Speed is measured here, not in the model, so summary.json stays a pure
    // function of scenario and seed; it is printed and never written.
    let wall = std::time::Instant::now();
    let summary = simulate(&sc, seed, &mut sink);
    let speed = Speed::of(&summary, wall.elapsed());
    sink.finish();
    ts.finish()
        .with_context(|| format!("cannot write {}", ts_path.display()))?;
    let sum_path = out.join("summary.json");
    write_atomic(&sum_path, summary_json(&summary).as_bytes())
        .with_context(|| format!("cannot write {}", sum_path.display()))?;
    if let Some(c) = &summary.cluster {
        let names: Vec<String> = c.pools.iter().map(|p| p.name.clone()).collect();
        let path = out.join("cluster.csv");
        let csv = knsim::model::cluster::cluster_csv(&names, &summary.cluster_rows);
        write_atomic(&path, csv.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !a.quiet {
        print!("{}", format_summary(&summary));
        print!("{}", format_speed(&summary, &speed));
        println!(
            "wrote      {} and {}",
            sum_path.display(),
            ts_path.display()
        );
    }
    if a.plot {
        return crate::plot::after_run(&out, a.quiet);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn validate(a: ValidateArgs) -> anyhow::Result<ExitCode> {
    let sc = load_scenario(&a.scenario.scenario, &a.scenario.set)?;
    println!(
        "{}: valid ({} revision(s), {} workload source(s), {} simulated)",
        a.scenario.scenario.display(),
        sc.revisions.len(),
        sc.workloads.sources.len(),
        sc.duration
    );
    Ok(ExitCode::SUCCESS)
}
