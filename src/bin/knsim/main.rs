//! `knsim`: simulate a Knative Service's autoscaling and traffic before
//! touching a cluster.

mod check;
mod gen_traces;
mod merge;
mod plot;
mod run;
mod sweep;
mod validate_model;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code for bad input (unreadable or invalid scenario, bad flags).
pub const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "knsim",
    version,
    about = "Discrete-event simulator of Knative Serving's autoscaler (KPA), activator, queue-proxy and routes",
    long_about = None,
    after_help = "Examples:\n  knsim run scenarios/greeter-tutorial.toml\n  knsim run scenarios/burst-panic.toml --seed 7 --set autoscaler.stable-window=30s --out /tmp/burst\n  knsim validate scenarios/canary-90-10.toml\n  knsim sweep scenarios/slo-example.toml --vary autoscaler.stable-window=30s,60s --reps 3 --out /tmp/sweep\n  knsim check scenarios/slo-example.toml\n  knsim run scenarios/greeter-tutorial.toml --plot\n  knsim plot results/greeter-tutorial"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write summary.json and timeseries.csv.
    Run(run::RunArgs),
    /// Check a scenario without running it: exit 0 if valid, 2 with every error otherwise.
    Validate(run::ValidateArgs),
    /// Run a grid of variants (--vary) with replications; write runs.csv and summary.csv.
    Sweep(sweep::SweepArgs),
    /// Combine sweep shards (--shard K/N) into the files one machine would write.
    Merge(merge::MergeArgs),
    /// Judge a scenario against its [slo] section and/or a baseline: exit 0 pass, 1 fail, 2 bad input.
    Check(check::CheckArgs),
    /// Write the synthetic sample traces (per-request CSV, Azure 2019 and 2021 formats) into DIR.
    GenTraces(gen_traces::GenTracesArgs),
    /// Draw SVG charts and report.html for a run's (or a sweep's) result directory.
    Plot(plot::PlotArgs),
    /// Compare the model with queueing theory and write results/validation.md.
    ValidateModel(validate_model::ValidateModelArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => run::validate(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => merge::merge(a),
        Command::Check(a) => check::check(a),
        Command::GenTraces(a) => gen_traces::gen_traces(a),
        Command::Plot(a) => plot::plot(a),
        Command::ValidateModel(a) => validate_model::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code_for(&e))
        }
    }
}

/// Bad input exits 2; anything else (I/O failures writing results) exits 1.
pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| {
        c.downcast_ref::<knsim::scenario::ScenarioError>().is_some()
            || c.downcast_ref::<knsim::sweep::SweepError>()
                .is_some_and(|s| s.is_bad_input())
            || c.downcast_ref::<knsim::gate::GateError>()
                .is_some_and(|g| g.is_bad_input())
    }) {
        EXIT_BAD_INPUT
    } else {
        1
    }
}
