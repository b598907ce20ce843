//! `knsim`: simulate a Knative Service's autoscaling and traffic before
//! touching a cluster.

mod run;
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
    after_help = "Examples:\n  knsim run scenarios/greeter-tutorial.toml\n  knsim run scenarios/burst-panic.toml --seed 7 --set autoscaler.stable-window=30s --out /tmp/burst\n  knsim validate scenarios/canary-90-10.toml"
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
    if e.chain()
        .any(|c| c.downcast_ref::<knsim::scenario::ScenarioError>().is_some())
    {
        EXIT_BAD_INPUT
    } else {
        1
    }
}
